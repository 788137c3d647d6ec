"""A battery: every probe file under a directory, with names unique across it; filtering.

Probe files are the ``*.yaml`` / ``*.yml`` files under the directory, in sorted path order.
Files and directories whose names start with ``_`` (slot data) or ``.``, and the top-level
``selections/`` directory, are not probes.
"""
from __future__ import annotations

from collections.abc import Sequence
from fnmatch import fnmatchcase
from pathlib import Path

from auditkit.errors import AuditError, Problem, ValidationError
from auditkit.paths import builtin_probes_dir
from auditkit.probes.load import ReadProbe, read_probe
from auditkit.probes.selection import apply_selection, load_selection, resolve_selection
from auditkit.types import Probe

SELECTIONS_DIR = "selections"


def probe_files(root: Path) -> list[Path]:
    """The probe files of a battery directory (or ``[root]`` for a single file), sorted."""
    if root.is_file():
        return [root]
    if not root.is_dir():
        raise AuditError(root, "no such probe file or directory")
    files = []
    for path in root.rglob("*"):
        rel = path.relative_to(root)
        if (path.suffix in (".yaml", ".yml") and path.is_file()
                and not any(part.startswith(("_", ".")) for part in rel.parts)
                and rel.parts[0] != SELECTIONS_DIR):
            files.append(path)
    return sorted(files, key=lambda p: p.relative_to(root).as_posix())


def read_battery(root: Path) -> tuple[list[Probe], list[Problem]]:
    """Every readable probe under ``root`` and every problem (per file, and names used twice)."""
    reads = [read_probe(path) for path in probe_files(root)]
    problems = [problem for read in reads for problem in read.problems]
    problems += _duplicate_names(reads)
    return [read.probe for read in reads if read.probe is not None], problems


def _duplicate_names(reads: list[ReadProbe]) -> list[Problem]:
    first: dict[str, ReadProbe] = {}
    problems = []
    for read in reads:
        if read.name is None:
            continue
        earlier = first.setdefault(read.name, read)
        if earlier is not read:
            problems.append(Problem(str(read.path), f"probe name {read.name!r} is already used "
                                    f"by {earlier.path}; expected names unique in the battery",
                                    field="name", line=read.name_line))
    return problems


def load_probes(path: Path | None = None, *, names: Sequence[str] | None = None,
                categories: Sequence[str] | None = None,
                selection: str | Path | None = None) -> list[Probe]:
    """The probes of a file or battery directory (default: the built-in battery).

    ``names`` are globs over probe names and ``categories`` over categories (each must match
    some probe); ``selection`` is a selection name under ``<dir>/selections/`` or a path.
    Raises ValidationError with every problem of every file.
    """
    root = Path(path) if path is not None else builtin_probes_dir()
    probes, problems = read_battery(root)
    if problems:
        raise ValidationError(problems)
    if not probes:
        raise AuditError(root, "no probe files found; expected *.yaml probe specs")
    probes = filter_probes(probes, root, names=names, categories=categories)
    if selection is not None:
        probes = apply_selection(probes, load_selection(resolve_selection(selection, root)))
    return probes


def filter_probes(probes: list[Probe], root: Path, *, names: Sequence[str] | None = None,
                  categories: Sequence[str] | None = None) -> list[Probe]:
    """The probes whose name matches one of ``names`` and whose category is in ``categories``."""
    if names:
        _require_matches(names, [p.name for p in probes], root, "names", "probe name")
        probes = [p for p in probes if any(fnmatchcase(p.name, pat) for pat in names)]
    if categories:
        _require_matches(categories, [p.category for p in probes], root, "categories",
                         "category")
        probes = [p for p in probes if any(fnmatchcase(p.category, c) for c in categories)]
    return probes


def _require_matches(patterns: Sequence[str], values: list[str], root: Path, field: str,
                     what: str) -> None:
    for pattern in patterns:
        if not any(fnmatchcase(value, pattern) for value in values):
            known = ", ".join(sorted(set(values))) or "none"
            raise AuditError(root, f"no {what} matches {pattern!r}; known: {known}", field=field)
