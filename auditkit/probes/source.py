"""Reading probe files with line numbers: YAML mappings remember where they and their keys are.

Every mapping read from YAML is a :class:`LineDict` (a dict that also knows its own line and the
line of each key), so validation can point at ``file:line`` for any field. JSONL objects become
LineDicts whose lines are all the JSONL line. Duplicate keys, which YAML and JSON readers would
silently collapse, are reported as problems.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from auditkit.errors import Problem


class LineDict(dict[Any, Any]):
    """A dict read from a file, with the 1-based line of the mapping and of each key."""

    line: int | None = None

    def __init__(self, *args: Any, line: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.line = line
        self.key_lines: dict[Any, int] = {}


def line_of(obj: Any, key: str | None = None, default: int | None = None) -> int | None:
    """The line of ``obj[key]`` (its key) when known, else of ``obj``, else ``default``."""
    if isinstance(obj, LineDict):
        if key is not None and key in obj.key_lines:
            return obj.key_lines[key]
        return obj.line if obj.line is not None else default
    return default


def plain(obj: Any) -> Any:
    """A deep copy made of plain dicts and lists (what goes into the frozen core types)."""
    if isinstance(obj, dict):
        return {k: plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [plain(v) for v in obj]
    return obj


@dataclass
class Issues:
    """The problems found in one file, collected rather than raised so all are reported."""

    path: str
    problems: list[Problem] = field(default_factory=list)

    def add(self, message: str, *, field: str | None = None, line: int | None = None,
            item: str | None = None) -> None:
        self.problems.append(Problem(self.path, message, field=field, line=line, item=item))


# libyaml's parser when present (about 6x faster on the built-in battery); marks are the same
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _LineLoader(_SafeLoader):  # type: ignore[misc, valid-type]
    """SafeLoader whose mappings are LineDicts; duplicate keys are recorded, not collapsed."""

    def __init__(self, stream: Any, issues: Issues) -> None:
        super().__init__(stream)
        self.issues = issues


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> LineDict:
    explicit_count = sum(1 for k, _ in node.value if k.tag != "tag:yaml.org,2002:merge")
    loader.flatten_mapping(node)  # resolves "<<" merge keys: merged pairs come first
    merged = len(node.value) - explicit_count
    data = LineDict(line=node.start_mark.line + 1)
    explicit: set[Any] = set()
    for index, (key_node, value_node) in enumerate(node.value):
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        if not isinstance(key, (str, int, float, bool)) and key is not None:
            loader.issues.add("a mapping key must be a plain scalar", line=line)
            continue
        if index < merged:  # from a "<<" merge: later pairs win, as in PyYAML
            data[key] = loader.construct_object(value_node, deep=True)
            data.key_lines[key] = line
            continue
        if key in explicit:
            loader.issues.add(f"duplicate key {key!r} (first at line {data.key_lines[key]})",
                              field=str(key), line=line)
            continue
        explicit.add(key)  # a key written here overrides a merged one
        data[key] = loader.construct_object(value_node, deep=True)
        data.key_lines[key] = line
    return data


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def read_yaml(path: Path, issues: Issues) -> Any:
    """The document in ``path`` (mappings as LineDicts); None, with a problem, when unreadable."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        issues.add(f"cannot read the file: {err}")
        return None
    loader = _LineLoader(text, issues)
    try:
        return loader.get_single_data()
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        issues.add(f"not valid YAML: {getattr(err, 'problem', None) or err}",
                   line=mark.line + 1 if mark is not None else None)
        return None
    finally:
        loader.dispose()


def read_jsonl(path: Path, issues: Issues) -> list[Any]:
    """One value per non-blank line; objects become LineDicts carrying their line number."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as err:
        issues.add(f"cannot read the file: {err}")
        return []
    values = []
    for number, text in enumerate(lines, start=1):
        if text.strip():
            values.append(_parse_json_line(text, number, issues))
    return [v for v in values if v is not None]


def _parse_json_line(text: str, number: int, issues: Issues) -> Any:
    def hook(pairs: list[tuple[str, Any]]) -> LineDict:
        data = LineDict(line=number)
        for key, value in pairs:
            if key in data:
                issues.add(f"duplicate key {key!r}", field=key, line=number)
            data[key] = value
            data.key_lines[key] = number
        return data

    try:
        return json.loads(text, object_pairs_hook=hook)
    except json.JSONDecodeError as err:
        issues.add(f"not valid JSON: {err.msg} (column {err.colno})", line=number)
        return None
