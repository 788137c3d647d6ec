"""Cheap change detection for model files while a run is scoring them.

Fingerprints are taken when the family is loaded; scoring happens minutes later. If a model
directory is rewritten in between (a fine-tune still being saved, a rebuild), the outcomes would
be cached under a fingerprint that no longer describes the weights that produced them. A stamp
(name, size and mtime of each of a model's files) taken at the start of scoring and compared before
each write catches that without rehashing anything.
"""
from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from auditkit.errors import AuditError
from auditkit.types import Family

Stamp = tuple[tuple[str, int, int], ...]   # (file name, size, mtime_ns), sorted


def model_stamp(path: Path) -> Stamp:
    """The stamp of a model directory (its own files; a nested model is not part of it) or of a
    single file."""
    files = [path] if path.is_file() else sorted(p for p in path.iterdir() if p.is_file())
    return tuple((f.name, f.stat().st_size, f.stat().st_mtime_ns) for f in files)


def with_ancestors(family: Family, names: Iterable[str]) -> list[str]:
    """``names`` and all their ancestors (an adapter's results depend on its base), each once."""
    return list(dict.fromkeys(n for name in names for n in (name, *family.ancestors(name))))


def family_stamps(family: Family, names: Iterable[str]) -> dict[str, Stamp]:
    """Stamps of ``names`` and of all their ancestors."""
    return {name: model_stamp(family.get(name).path) for name in with_ancestors(family, names)}


def check_unchanged(family: Family, names: Iterable[str], stamps: dict[str, Stamp]) -> None:
    """Raise if one of ``names`` or an ancestor changed on disk since ``stamps`` were taken."""
    for name in with_ancestors(family, names):
        path = family.get(name).path
        try:
            now, reason = model_stamp(path), "was modified"
        except OSError as exc:
            now, reason = None, f"cannot be read any more ({exc.strerror or exc})"
        if now != stamps[name]:
            raise AuditError(path, f"the model {name!r} {reason} while this run was scoring "
                             "it; the outcomes since then were not stored (they would be filed "
                             "under its old fingerprint). Run again once it is stable")
