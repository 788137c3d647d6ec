"""Loading one probe file: the spec, its items (inline, JSONL or templates), ids, version.

Every problem in a file (and in the JSONL and slot files it reads) is collected and raised
together as one :class:`ValidationError`.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from auditkit.errors import AuditError, Problem, ValidationError
from auditkit.probes.items import parse_item
from auditkit.probes.kinds import get_kind, kind_names
from auditkit.probes.schema import (
    ID_RE,
    ITEM_SOURCES,
    NAME_RE,
    SPEC_KEYS,
    SPEC_REQUIRED,
    check_keys,
    describe,
    read_choice,
    read_str,
)
from auditkit.probes.scoring import read_scoring
from auditkit.probes.source import Issues, line_of, read_jsonl, read_yaml
from auditkit.probes.templates import expand_templates
from auditkit.probes.version import probe_version
from auditkit.types import Item, Probe


@dataclass
class ReadProbe:
    """What reading one probe file gave: the probe (None on any problem) and the problems."""

    path: Path
    probe: Probe | None
    problems: list[Problem] = field(default_factory=list)
    name: str | None = None                    # the spec's name, when it could be read
    name_line: int | None = None


@dataclass(frozen=True)
class _Located:
    id: str                                    # a well-formed id (duplicates are found on these)
    item: Item | None                          # None when the item has other problems
    path: str
    line: int | None


def load_probe(path: Path) -> Probe:
    """The probe in the YAML spec at ``path``; ValidationError listing every problem."""
    path = Path(path)
    if not path.is_file():
        raise AuditError(path, "no such probe file")
    read = read_probe(path)
    if read.problems or read.probe is None:
        raise ValidationError(read.problems or [Problem(str(path), "could not be read")])
    return read.probe


def read_probe(path: Path) -> ReadProbe:
    """Read and check one probe file without raising: the probe or the problems."""
    issues = Issues(str(path))
    spec = read_yaml(path, issues)
    if not isinstance(spec, Mapping):
        if not issues.problems:
            issues.add(f"expected a probe spec (a mapping with {', '.join(SPEC_REQUIRED)}), "
                       f"found {describe(spec)}")
        return ReadProbe(path, None, issues.problems)
    name, kind, texts = _read_header(spec, issues)
    result = ReadProbe(path, None, issues.problems, name, line_of(spec, "name"))
    if kind is None:
        return result
    scoring = read_scoring(spec, kind, issues)
    located = _read_items(spec, kind, path, issues)
    _check_unique_ids(located, issues)
    strings = {key: value for key, value in texts.items() if value is not None}
    if not issues.problems and name is not None and len(strings) == len(texts):
        items = tuple(entry.item for entry in located if entry.item is not None)
        result.probe = Probe(name=name, version=probe_version(name, kind, scoring, items),
                             kind=kind, items=items, scoring=scoring, path=path.resolve(),
                             **strings)
    return result


def _read_header(spec: Mapping[str, Any], issues: Issues) -> tuple[str | None, str | None,
                                                         dict[str, str | None]]:
    check_keys(spec, SPEC_KEYS, issues, what="a probe spec")
    name = read_str(spec, "name", issues)
    if name is not None and not NAME_RE.fullmatch(name):
        issues.add(f"expected a name matching [a-z0-9][a-z0-9_.-]*, found {name!r}",
                   field="name", line=line_of(spec, "name"))
        name = None
    kind = read_choice(spec, "kind", tuple(kind_names()), issues)
    texts = {key: read_str(spec, key, issues)
             for key in ("category", "dimension", "description", "source", "license")}
    present = [key for key in ITEM_SOURCES if key in spec]
    if len(present) != 1:
        found = ", ".join(present) if present else "none"
        issues.add(f"expected exactly one of items, items_file, templates; found {found}",
                   field="items", line=line_of(spec, present[1] if present[1:] else None))
    if "slots" in spec and "templates" not in spec:
        issues.add("slots are only used by templates; expected templates beside them",
                   field="slots", line=line_of(spec, "slots"))
    return name, kind, texts


def _read_items(spec: Mapping[str, Any], kind: str, path: Path, issues: Issues) -> list[_Located]:
    present = [key for key in ITEM_SOURCES if key in spec]
    if len(present) != 1:
        return []
    before = len(issues.problems)
    located = _READERS[present[0]](spec, kind, path, issues)
    if not located and len(issues.problems) == before:
        issues.add("the probe has no items; expected at least one", field=present[0],
                   line=line_of(spec, present[0]))
    return located


def _inline(spec: Mapping[str, Any], kind: str, path: Path, issues: Issues) -> list[_Located]:
    raws = spec["items"]
    line = line_of(spec, "items")
    if not isinstance(raws, list):
        issues.add(f"expected a list of items, found {describe(raws)}", field="items", line=line)
        return []
    return _parse_all(raws, kind, issues, line)


def _from_file(spec: Mapping[str, Any], kind: str, path: Path, issues: Issues) -> list[_Located]:
    name = spec["items_file"]
    line = line_of(spec, "items_file")
    if not isinstance(name, str) or not name:
        issues.add(f"expected a path to a JSONL file, found {describe(name)}",
                   field="items_file", line=line)
        return []
    file = path.parent / name
    if not file.is_file():
        issues.add(f"items file {str(file)!r} not found", field="items_file", line=line)
        return []
    file_issues = Issues(str(file))
    located = _parse_all(read_jsonl(file, file_issues), kind, file_issues, None)
    issues.problems.extend(file_issues.problems)
    return located


def _from_templates(spec: Mapping[str, Any], kind: str, path: Path,
                    issues: Issues) -> list[_Located]:
    raws = expand_templates(spec, kind, path.parent, issues,
                            get_kind(kind).allowed_item_keys)
    scratch = Issues(issues.path)
    located = _parse_all(raws, kind, scratch, None)
    # the same mistake repeats in every expansion of a template: report it once, with a count
    first: dict[tuple[Any, ...], Problem] = {}
    repeats: dict[tuple[Any, ...], int] = {}
    for problem in scratch.problems:
        key = (problem.path, problem.line, problem.field, problem.message)
        first.setdefault(key, problem)
        repeats[key] = repeats.get(key, -1) + 1
    for key, problem in first.items():
        more = f" (and in {repeats[key]} more expanded items)" if repeats[key] else ""
        issues.problems.append(dataclasses.replace(problem, message=problem.message + more))
    return located


def _parse_all(raws: list[Any], kind: str, issues: Issues, line: int | None) -> list[_Located]:
    located = []
    for raw in raws:
        item = parse_item(kind, raw, issues, line=line)
        item_id = raw.get("id") if isinstance(raw, Mapping) else None
        if isinstance(item_id, str) and ID_RE.fullmatch(item_id):
            where = line_of(raw, "id", default=line)
            located.append(_Located(item_id, item, issues.path, where))
    return located


_READERS = {"items": _inline, "items_file": _from_file, "templates": _from_templates}


def _check_unique_ids(located: list[_Located], issues: Issues) -> None:
    first: dict[str, _Located] = {}
    for entry in located:
        earlier = first.setdefault(entry.id, entry)
        if earlier is not entry:
            where = f"line {earlier.line}" if earlier.line is not None else "earlier"
            issues.problems.append(Problem(entry.path, f"duplicate id (first at {where}); "
                                           "expected ids unique within the probe", field="id",
                                           line=entry.line, item=entry.id))
