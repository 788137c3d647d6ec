"""``family.yaml``: the optional manifest that names models and fixes their lineage.

Strict: unknown keys, wrong types, duplicate keys, paths that escape the family directory or do
not exist are reported together, each with the file, the line and the field.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, get_args

import yaml

from auditkit.errors import AuditError, Problem, ValidationError
from auditkit.family.hub import HubNotFound, is_hub_id, resolve_hub
from auditkit.types import ModelKind

MANIFEST_NAME = "family.yaml"
TOP_KEYS = ("name", "models")
ENTRY_KEYS = ("path", "parent", "display_name", "kind", "tags", "intent", "hub", "revision",
              "external")
# Where a member's files are: a path in the family directory, a hub id in the local Hugging
# Face cache (auditkit.family.hub), or a file of outputs produced elsewhere (external).
SOURCE_KEYS = ("path", "hub", "external")
KINDS: tuple[str, ...] = get_args(ModelKind)


@dataclass(frozen=True)
class ManifestEntry:
    """One model as the manifest describes it (already checked)."""

    name: str
    rel_path: str                  # normalised POSIX path relative to the family directory
    path: Path                     # family directory / rel_path (absolute, symlinks not resolved)
    parent: str | None
    has_parent: bool               # `parent` was written (null then declares a root)
    display_name: str = ""
    kind: ModelKind | None = None
    tags: tuple[str, ...] = ()
    intent: str = ""
    line: int | None = None        # line of the model's key
    parent_line: int | None = None
    hub: str | None = None         # the hub id it was resolved from (path: its snapshot)
    revision: str | None = None    # the hub revision asked for (None: main)
    external: bool = False         # path is a file of its outputs (auditkit.score.external)


@dataclass(frozen=True)
class FamilyManifest:
    path: Path
    name: str | None
    entries: tuple[ManifestEntry, ...]

    def entry(self, name: str) -> ManifestEntry | None:
        return next((e for e in self.entries if e.name == name), None)


# Mapping of key -> (key node, value node), in file order.
Pairs = dict[str, tuple[yaml.Node, yaml.Node]]


def load_family_manifest(path: Path) -> FamilyManifest:
    """Parse and check ``path`` (a family.yaml); every problem found is reported at once."""
    path = Path(path).absolute()
    root_node = _compose(path)
    problems: list[Problem] = []
    top = _pairs(root_node, path, "", problems) if root_node is not None else {}
    _unknown_keys(top, TOP_KEYS, path, "", problems)
    name = _value(top, "name", str, path, "", problems)
    entries: list[ManifestEntry] = []
    if "models" in top:
        models = _pairs(top["models"][1], path, "models", problems)
        for key, (key_node, value_node) in models.items():
            entry = _entry(key, key_node, value_node, path, problems)
            if entry is not None:
                entries.append(entry)
    _duplicate_paths(entries, path, problems)
    if problems:
        raise ValidationError(problems)
    return FamilyManifest(path=path, name=name, entries=tuple(entries))


def _compose(path: Path) -> yaml.Node | None:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise AuditError(path, f"cannot read the manifest: {exc}") from None
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        what = getattr(exc, "problem", None) or str(exc)
        raise AuditError(path, f"not valid YAML: {what}", line=line) from None


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def _pairs(node: yaml.Node, path: Path, field: str, problems: list[Problem]) -> Pairs:
    """The keys of a mapping node; a non-mapping or a duplicate key is a problem."""
    if isinstance(node, yaml.ScalarNode) and node.tag.endswith(":null"):
        return {}
    if not isinstance(node, yaml.MappingNode):
        problems.append(Problem(str(path), "expected a mapping", field=field or None,
                                line=_line(node)))
        return {}
    pairs: Pairs = {}
    for key_node, value_node in node.value:
        key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
        where = _join(field, str(key))
        if not isinstance(key, str):
            problems.append(Problem(str(path), "expected a string key", field=field or None,
                                    line=_line(key_node)))
        elif key in pairs:
            problems.append(Problem(str(path), f"duplicate key {key!r}", field=where,
                                    line=_line(key_node)))
        else:
            pairs[key] = (key_node, value_node)
    return pairs


def _join(field: str, key: str) -> str:
    return f"{field}.{key}" if field else key


def _unknown_keys(pairs: Pairs, allowed: tuple[str, ...], path: Path, field: str,
                  problems: list[Problem]) -> None:
    for key, (key_node, _) in pairs.items():
        if key not in allowed:
            problems.append(Problem(str(path), f"unknown key {key!r}; expected one of "
                                    f"{', '.join(allowed)}", field=_join(field, key),
                                    line=_line(key_node)))


def _value(pairs: Pairs, key: str, kind: type, path: Path, field: str,
           problems: list[Problem], *, nullable: bool = False) -> Any:
    """The Python value under ``key`` if it has type ``kind`` (None when absent)."""
    if key not in pairs:
        return None
    node = pairs[key][1]
    value = yaml.constructor.SafeConstructor().construct_object(node, deep=True)
    if value is None and nullable:
        return None
    ok = isinstance(value, kind) and not (kind is not bool and isinstance(value, bool))
    if kind is list and ok:
        ok = all(isinstance(v, str) for v in value)
    if not ok:
        expected = "a list of strings" if kind is list else f"a {kind.__name__}"
        problems.append(Problem(str(path), f"expected {expected}"
                                + (" or null" if nullable else "") + f", found {value!r}",
                                field=_join(field, key), line=_line(node)))
        return None
    return value


def _entry(name: str, key_node: yaml.Node, node: yaml.Node, path: Path,
           problems: list[Problem]) -> ManifestEntry | None:
    field = f"models.{name}"
    before = len(problems)
    pairs = _pairs(node, path, field, problems)
    _unknown_keys(pairs, ENTRY_KEYS, path, field, problems)
    rel = _value(pairs, "path", str, path, field, problems)
    parent = _value(pairs, "parent", str, path, field, problems, nullable=True)
    kind = _value(pairs, "kind", str, path, field, problems)
    if kind is not None and kind not in KINDS:
        problems.append(Problem(str(path), f"unknown kind {kind!r}; expected one of "
                                f"{', '.join(KINDS)}", field=f"{field}.kind",
                                line=_line(pairs["kind"][1])))
    tags = _value(pairs, "tags", list, path, field, problems) or []
    display = _value(pairs, "display_name", str, path, field, problems) or ""
    intent = _value(pairs, "intent", str, path, field, problems) or ""
    hub = _value(pairs, "hub", str, path, field, problems)
    revision = _value(pairs, "revision", str, path, field, problems)
    external = _value(pairs, "external", str, path, field, problems)
    where = _source(name, key_node, pairs, (rel, hub, revision, external), path, problems)
    if len(problems) > before or where is None:
        return None
    if external is not None and kind not in (None, "external"):
        problems.append(Problem(str(path), f"kind is {kind!r} but the model is external (a "
                                "file of outputs); leave kind out or write external",
                                field=f"{field}.kind", line=_line(pairs["kind"][1])))
        return None
    rel_path, abs_path = where
    return ManifestEntry(
        name=name, rel_path=rel_path, path=abs_path, parent=parent,
        has_parent="parent" in pairs, display_name=display,
        kind="external" if external is not None else kind, tags=tuple(tags),
        intent=intent, line=_line(key_node),
        parent_line=_line(pairs["parent"][1]) if "parent" in pairs else None,
        hub=hub, revision=revision, external=external is not None,
    )


def _source(name: str, key_node: yaml.Node, pairs: Pairs,
            values: tuple[str | None, str | None, str | None, str | None], path: Path,
            problems: list[Problem]) -> tuple[str, Path] | None:
    """(rel_path, path) of the member's files: ``path`` (default: the name), ``hub`` (+
    ``revision``) resolved in the local Hugging Face cache, or the ``external`` outputs file."""
    rel, hub, revision, external = values
    field = f"models.{name}"
    given = [k for k in SOURCE_KEYS if k in pairs]
    if len(given) > 1:
        problems.append(Problem(str(path), f"give one of {', '.join(SOURCE_KEYS)}, not "
                                f"{' and '.join(given)}", field=f"{field}.{given[1]}",
                                line=_line(pairs[given[1]][0])))
        return None
    if revision is not None and hub is None:
        problems.append(Problem(str(path), "revision needs hub (a hub id to resolve in the "
                                "local Hugging Face cache)", field=f"{field}.revision",
                                line=_line(pairs["revision"][0])))
        return None
    if hub is not None:
        return _hub_source(hub, revision, path, f"{field}.hub", _line(pairs["hub"][1]),
                           problems)
    key = "external" if external is not None else "path"
    line = _line(pairs[key][1]) if key in pairs else _line(key_node)
    source = external if external is not None else rel if rel is not None else name
    rel_path = _check_path(source, path, f"{field}.{key}", line, problems)
    return (rel_path, path.parent / rel_path) if rel_path is not None else None


def _hub_source(hub: str, revision: str | None, path: Path, field: str, line: int,
                problems: list[Problem]) -> tuple[str, Path] | None:
    if not is_hub_id(hub):
        problems.append(Problem(str(path), f"{hub!r} is not a hub id (expected org/name)",
                                field=field, line=line))
        return None
    try:
        snapshot = resolve_hub(hub, revision)
    except HubNotFound as exc:
        problems.append(Problem(str(path), str(exc), field=field, line=line))
        return None
    return snapshot.as_posix(), snapshot


def _check_path(rel: str, path: Path, field: str, line: int, problems: list[Problem]) -> str | None:
    """``rel`` normalised, if it stays inside the family directory and exists."""
    pure = PurePosixPath(rel.replace("\\", "/"))
    norm = os.path.normpath(str(pure)) if rel else ""
    if not rel or pure.is_absolute() or norm == ".." or norm.startswith("../") \
            or (len(rel) > 1 and rel[1] == ":"):
        problems.append(Problem(str(path), f"path {rel!r} escapes the family directory "
                                "(expected a path relative to it, without '..')",
                                field=field, line=line))
        return None
    if not (path.parent / norm).exists():
        problems.append(Problem(str(path), f"path {rel!r} does not exist in "
                                f"{path.parent}", field=field, line=line))
        return None
    return PurePosixPath(norm).as_posix()


def _duplicate_paths(entries: list[ManifestEntry], path: Path, problems: list[Problem]) -> None:
    seen: dict[str, str] = {}
    for entry in entries:
        key = os.path.realpath(entry.path)
        if key in seen:
            problems.append(Problem(str(path), f"path {entry.rel_path!r} is also model "
                                    f"{seen[key]!r}'s path", field=f"models.{entry.name}.path",
                                    line=entry.line))
        seen.setdefault(key, entry.name)
