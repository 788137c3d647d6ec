"""Cheap change detection for model files while a run is scoring them.

Fingerprints are taken when the family is loaded; scoring happens minutes later. If a model
directory is rewritten in between (a fine-tune still being saved, a rebuild), the outcomes would
be cached under a fingerprint that no longer describes the weights that produced them. A stamp
(name, size and mtime of each of a model's files) taken at the start of scoring and compared before
each write catches that without rehashing anything.
"""
from __future__ import annotations

from pathlib import Path

from auditkit.errors import AuditError
from auditkit.types import Family

Stamp = tuple[tuple[str, int, int], ...]   # (relative name, size, mtime_ns), sorted


def model_stamp(path: Path) -> Stamp:
    """The stamp of a model directory (its own files; a nested model is not part of it) or of a
    single file."""
    files = [path] if path.is_file() else sorted(p for p in path.iterdir() if p.is_file())
    out = []
    for file in files:
        stat = file.stat()
        out.append((file.name if file == path else str(file.relative_to(path)),
                    stat.st_size, stat.st_mtime_ns))
    return tuple(out)


def family_stamps(family: Family, names: list[str] | tuple[str, ...]) -> dict[str, Stamp]:
    """Stamps of ``names`` and of all their ancestors (an adapter's results depend on its base)."""
    wanted: set[str] = set()
    for name in names:
        while name is not None and name not in wanted:
            wanted.add(name)
            name = family.get(name).parent
    return {name: model_stamp(family.get(name).path) for name in wanted}


def check_unchanged(family: Family, name: str, stamps: dict[str, Stamp]) -> None:
    """Raise if ``name`` or an ancestor changed on disk since ``stamps`` were taken."""
    while name is not None:
        node = family.get(name)
        try:
            now = model_stamp(node.path)
        except OSError as exc:
            now = None
            reason = f"cannot be read any more ({exc.strerror or exc})"
        else:
            reason = "was modified"
        if now != stamps[name]:
            raise AuditError(node.path, f"the model {name!r} {reason} while this run was scoring "
                             "it; the outcomes since then were not stored (they would be filed "
                             "under its old fingerprint). Run again once it is stable")
        name = node.parent
