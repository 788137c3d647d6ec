"""What every importer shares: the imported probe (spec fields + item dicts) and its writer.

An importer reads a public dataset's file into an :class:`ImportedProbe`; :func:`write_probe`
writes it as a native probe: ``NAME.yaml`` (the spec, with ``items_file``, and the import's
notes as comments) beside ``NAME.jsonl`` (one item per line), in the format of
``docs/probe-format.md``, never replacing a different probe unless forced.
"""
from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from auditkit.errors import AuditError
from auditkit.probes.importers._reading import Reading, lenient

# the patterns of docs/probe-format.md (names and item ids)
NAME_RE = re.compile(r"[a-z0-9][a-z0-9_.-]*")
ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]*")


@dataclass(frozen=True)
class ImportedProbe:
    """A dataset converted to the native format, not yet written: spec fields plus item dicts."""

    name: str
    kind: str                      # a built-in probe kind
    category: str
    dimension: str
    description: str
    source: str
    license: str
    items: tuple[dict[str, Any], ...]
    scoring: Mapping[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = ()    # what the importer left out or could not resolve, for the user
    warnings: tuple[str, ...] = ()  # how the source differs from the published files

    def spec(self, items_file: str) -> dict[str, Any]:
        """The YAML spec, pointing at ``items_file``."""
        spec: dict[str, Any] = {
            "name": self.name, "kind": self.kind, "category": self.category,
            "dimension": self.dimension, "description": self.description,
            "source": self.source, "license": self.license,
        }
        if self.scoring:
            spec["scoring"] = dict(self.scoring)
        spec["items_file"] = items_file
        return spec


def check_name(name: str, where: str | Path) -> str:
    """``name`` when it is a valid probe name, else an AuditError."""
    if not NAME_RE.fullmatch(name):
        raise AuditError(where, f"invalid probe name {name!r}; expected lower-case letters, "
                                "digits, '_', '.' or '-', starting with a letter or digit",
                         field="name")
    return name


def item_id(raw: Any, path: Path, line: int, field_name: str) -> str:
    """The dataset's own id (or row number) as an item id, checked against the id pattern."""
    text = str(raw).strip()
    if not ID_RE.fullmatch(text):
        raise AuditError(path, f"cannot use {text!r} as an item id; expected letters, digits, "
                               "'_', '.', ':' or '-', starting with a letter or digit",
                         field=field_name, line=line)
    return text


def unique_items(path: Path, numbered: list[tuple[int, dict[str, Any]]],
                 reading: Reading | None = None,
                 ) -> tuple[tuple[dict[str, Any], ...], tuple[str, ...]]:
    """Items in order with exact repeats dropped (and noted); a reused id with other content
    is a malformed record naming both lines. ``numbered`` holds (source line, item) pairs."""
    reading = lenient(reading)
    seen: dict[str, tuple[int, dict[str, Any]]] = {}
    kept, dropped = [], []
    for line, item in numbered:
        first = seen.get(item["id"])
        if first is None:
            seen[item["id"]] = (line, item)
            kept.append(item)
        elif first[1] == item:
            dropped.append(line)
        else:
            reading.bad(AuditError(path, f"id {item['id']!r} is used again with other content "
                                         f"(first at line {first[0]}); expected unique ids",
                                   line=line, item=item["id"]))
    notes = (f"dropped {len(dropped)} exact repeat(s) of earlier records, at line(s) "
             f"{', '.join(map(str, dropped))}",) if dropped else ()
    return tuple(kept), notes


def write_probe(probe: ImportedProbe, out: Path, *, force: bool = False) -> Path:
    """Write ``probe`` as ``out/NAME.yaml`` + ``out/NAME.jsonl``; returns the YAML path.

    Writing the same bytes again is fine; replacing a different probe of that name needs
    ``force`` (two source files of one format must never overwrite each other silently)."""
    if out.exists() and not out.is_dir():
        raise AuditError(out, "exists and is not a directory; expected an output directory")
    check_name(probe.name, out)
    yaml_path, items_path = out / f"{probe.name}.yaml", out / f"{probe.name}.jsonl"
    items = "".join(json.dumps(item, ensure_ascii=False) + "\n" for item in probe.items)
    spec = _header(probe) + yaml.safe_dump(probe.spec(items_path.name), sort_keys=False,
                                          allow_unicode=True, width=100)
    if not force:
        _refuse_overwrite(probe, yaml_path, spec, items_path, items)
    out.mkdir(parents=True, exist_ok=True)
    items_path.write_text(items, encoding="utf-8")
    yaml_path.write_text(spec, encoding="utf-8")
    return yaml_path


def _header(probe: ImportedProbe) -> str:
    """The YAML file's opening comments: provenance, and the notes (skipped records, ...)."""
    lines = [f"# Written by `auditkit probes import` ({len(probe.items)} items).",
             "# Edit the importer, not this file: a re-import overwrites it."]
    lines += [f"# warning: {line}" for note in probe.warnings for line in note.splitlines()]
    lines += [f"# note: {line}" for note in probe.notes for line in note.splitlines()]
    return "\n".join(lines) + "\n"


def _refuse_overwrite(probe: ImportedProbe, yaml_path: Path, spec: str, items_path: Path,
                      items: str) -> None:
    # the header comments (notes, warnings naming the source path) are not the probe
    for path, text in ((yaml_path, spec), (items_path, items)):
        if path.exists() and _body(path.read_text(encoding="utf-8")) != _body(text):
            raise AuditError(path, f"already holds a different probe {probe.name!r}; not "
                                   "overwritten: give another --name (or --out), or --force "
                                   "to replace it")


def _body(text: str) -> str:
    lines = text.splitlines(keepends=True)
    while lines and lines[0].startswith("#"):
        lines.pop(0)
    return "".join(lines)


def derived_name(base: str, src: Path, canonical: tuple[str, ...]) -> str:
    """``base`` for a source file of one of the published names (``canonical``), else
    ``base.<file name>``: each source file gets its own probe name, so that two files of one
    format imported into one directory never share a name."""
    if src.name in canonical:
        return base
    stem = src.name
    for suffix in (".csv", ".tsv", ".jsonl", ".json", ".txt"):
        stem = stem.removesuffix(suffix)
    slug = re.sub(r"[^a-z0-9_.-]+", "_", stem.lower()).strip("._-")
    return f"{base}.{slug or 'file'}"


def clean(meta: Mapping[str, Any]) -> dict[str, Any]:
    """``meta`` without empty values (a blank CSV cell says nothing)."""
    return {k: v for k, v in meta.items() if v not in ("", None, [], {})}
