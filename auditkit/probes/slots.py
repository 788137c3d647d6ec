"""Slot fillers for templates: listed inline, or read from a data file shared between probes.

A filler is a string or number (used as ``{slot}``) or a flat mapping of such values (used as
``{slot.key}``). ``slots: {request: {file: _requests.yaml}}`` reads a YAML or JSON list of
fillers from a path relative to the probe's file.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from auditkit.probes.schema import describe
from auditkit.probes.source import Issues, line_of, plain, read_yaml

Scalar = str | int | float
Filler = Scalar | Mapping[str, Scalar]
SLOT_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def read_slots(raw: Any, base_dir: Path, issues: Issues, *, where: Mapping[str, Any],
               field: str) -> dict[str, list[Filler] | None]:
    """Slot name -> its fillers; None for a slot that is malformed (the problem is recorded)."""
    if raw is None or raw == {}:
        return {}
    if not isinstance(raw, Mapping):
        issues.add(f"expected a mapping of slot names to filler lists, found {describe(raw)}",
                   field=field, line=line_of(where, "slots"))
        return {}
    slots: dict[str, list[Filler] | None] = {}
    for name, value in raw.items():
        if not isinstance(name, str) or not SLOT_RE.fullmatch(name):
            issues.add(f"slot name {name!r} is not a valid name; expected letters, digits "
                       "and _ (not starting with a digit)", field=field, line=line_of(raw, name))
            continue
        slots[name] = _read_fillers(value, raw, name, base_dir, issues, f"{field}.{name}")
    return slots


def _read_fillers(value: Any, raw: Mapping[str, Any], name: str, base_dir: Path, issues: Issues,
                  field: str) -> list[Filler] | None:
    line = line_of(raw, name)
    if isinstance(value, Mapping):
        path = value.get("file")
        if set(value) != {"file"} or not isinstance(path, str) or not path:
            issues.add("expected a list of fillers or {file: PATH}", field=field, line=line)
            return None
        return _fillers_from_file(base_dir / path, issues, field, line)
    if not isinstance(value, list):
        issues.add(f"expected a list of fillers, found {describe(value)}", field=field,
                   line=line)
        return None
    return _checked(value, issues, field, line)


def _fillers_from_file(path: Path, issues: Issues, field: str,
                       line: int | None) -> list[Filler] | None:
    if not path.is_file():
        issues.add(f"slot file {str(path)!r} not found", field=field, line=line)
        return None
    file_issues = Issues(str(path))
    values = read_yaml(path, file_issues)
    if not file_issues.problems and not isinstance(values, list):
        file_issues.add(f"expected a list of slot fillers, found {describe(values)}")
    fillers = None if file_issues.problems else _checked(values, file_issues, None, None)
    issues.problems.extend(file_issues.problems)
    return fillers


def _checked(values: list[Any], issues: Issues, field: str | None,
             line: int | None) -> list[Filler] | None:
    ok = True
    for index, filler in enumerate(values):
        problem = _filler_problem(filler)
        if problem:
            where = f"{field}[{index}]" if field else f"[{index}]"
            issues.add(problem, field=where, line=line_of(filler, default=line))
            ok = False
    return [plain(v) for v in values] if ok else None


def _filler_problem(filler: Any) -> str | None:
    if isinstance(filler, Mapping):
        for key, value in filler.items():
            if not isinstance(key, str) or not SLOT_RE.fullmatch(key):
                return f"filler key {key!r} is not a valid name (letters, digits, _)"
            if not _is_scalar(value):
                return f"filler value {key}: expected a string or number, found {describe(value)}"
        return None if filler else "an empty mapping; expected keys with values"
    if not _is_scalar(filler):
        return (f"expected a string, a number or a mapping, found {describe(filler)}"
                + ("; quote it (YAML reads yes/no/true/false as booleans)"
                   if isinstance(filler, bool) else ""))
    return None


def _is_scalar(value: Any) -> bool:
    return isinstance(value, (str, int, float)) and not isinstance(value, bool)
