"""Selections: a named subset of a battery (``probes/selections/NAME.yaml``).

``probes`` maps a glob over probe names to the number of items taken from each probe it
matches; the first matching glob wins and unmatched probes are left out. Items are ranked by
``sha256(probe name + "/" + item id)`` and the first N kept, in the probe's own order, so
adding items to a probe changes a selection little. A selected probe keeps its full version
(its items are a subset of that version's), so scores cached for one are reused by the other.
"""
from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from auditkit.errors import AuditError, Problem, ValidationError
from auditkit.probes.schema import NAME_RE, check_keys, describe, read_str
from auditkit.probes.source import Issues, line_of, read_yaml
from auditkit.types import Probe

SELECTION_KEYS = frozenset({"name", "description", "probes"})


@dataclass(frozen=True)
class Selection:
    name: str
    description: str
    probes: tuple[tuple[str, int], ...]      # (glob over probe names, items per probe), in order
    path: Path | None = None
    lines: Mapping[str, int | None] = field(default_factory=dict, compare=False, repr=False)

    def pattern_for(self, probe_name: str) -> str | None:
        """The first glob that matches the probe's name; None if none does."""
        for pattern, _ in self.probes:
            if fnmatchcase(probe_name, pattern):
                return pattern
        return None

    def count_for(self, probe_name: str) -> int | None:
        """Items to take from the probe (its first matching glob's count); None if no glob."""
        pattern = self.pattern_for(probe_name)
        return None if pattern is None else dict(self.probes)[pattern]


def load_selection(path: Path) -> Selection:
    """The selection in ``path``; ValidationError listing every problem."""
    selection, problems = read_selection(Path(path))
    if problems or selection is None:
        raise ValidationError(problems or [Problem(str(path), "could not be read")])
    return selection


def read_selection(path: Path) -> tuple[Selection | None, list[Problem]]:
    """Read and check a selection file without raising."""
    issues = Issues(str(path))
    raw = read_yaml(path, issues)
    if not isinstance(raw, Mapping):
        if not issues.problems:
            issues.add(f"expected a mapping with name, description, probes; found {describe(raw)}")
        return None, issues.problems
    check_keys(raw, SELECTION_KEYS, issues, what="a selection")
    name = read_str(raw, "name", issues)
    if name is not None and not NAME_RE.fullmatch(name):
        issues.add(f"expected a name matching [a-z0-9][a-z0-9_.-]*, found {name!r}",
                   field="name", line=line_of(raw, "name"))
    description = read_str(raw, "description", issues, required=False, empty=True) or ""
    counts = _read_counts(raw, issues)
    if issues.problems or name is None:
        return None, issues.problems
    lines = {pattern: line_of(raw["probes"], pattern) for pattern, _ in counts}
    return Selection(name, description, counts, path.resolve(), lines), []


def _read_counts(raw: Mapping[str, Any], issues: Issues) -> tuple[tuple[str, int], ...]:
    value = raw.get("probes")
    if not isinstance(value, Mapping) or not value:
        issues.add(f"expected a mapping of probe-name globs to item counts, found "
                   f"{describe(value)}", field="probes", line=line_of(raw, "probes"))
        return ()
    counts = []
    for pattern, count in value.items():
        if (not isinstance(pattern, str) or isinstance(count, bool) or not isinstance(count, int)
                or count < 1):
            issues.add(f"expected a glob and a positive item count, found {pattern!r}: "
                       f"{describe(count)}", field=f"probes.{pattern}",
                       line=line_of(value, pattern))
        else:
            counts.append((pattern, count))
    return tuple(counts)


def resolve_selection(selection: str | Path, battery: Path) -> Path:
    """A selection file: ``selection`` itself when it is a path, else ``<dir>/selections/NAME``."""
    text = str(selection)
    if isinstance(selection, Path) or "/" in text or text.endswith((".yaml", ".yml")):
        path = Path(selection)
        if not path.is_file():
            raise AuditError(path, "no such selection file")
        return path
    folder = (battery if battery.is_dir() else battery.parent) / "selections"
    for suffix in (".yaml", ".yml"):
        if (folder / (text + suffix)).is_file():
            return folder / (text + suffix)
    known = sorted(p.stem for p in folder.glob("*.y*ml")) if folder.is_dir() else []
    raise AuditError(folder, f"no selection named {text!r}; known: {', '.join(known) or 'none'}",
                     field="selection")


def selection_rank(probe_name: str, item_id: str) -> str:
    """The key items are ranked by: sha256 hex of ``probe name + "/" + item id``."""
    return hashlib.sha256(f"{probe_name}/{item_id}".encode()).hexdigest()


def apply_selection(probes: list[Probe], selection: Selection) -> list[Probe]:
    """Each probe a glob matches, cut to its first N items by rank (kept in probe order)."""
    chosen = []
    for probe in probes:
        count = selection.count_for(probe.name)
        if count is None:
            continue
        ranked = sorted(probe.items, key=lambda item: selection_rank(probe.name, item.id))
        keep = {item.id for item in ranked[:count]}
        items = tuple(item for item in probe.items if item.id in keep)
        chosen.append(dataclasses.replace(probe, items=items))
    return chosen
