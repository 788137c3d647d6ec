"""One moment of truth per model: the stamp of the files its fingerprint was computed from.

A fingerprint names the bytes of a model; the model is loaded, and its outcomes stored, minutes
later. A stamp (name, size, mtime, ctime and inode of each of the model's files) is taken when
the fingerprint is computed, checked to be the same once hashing is done, and compared again
before a model is loaded, once it is loaded and before every write of its outcomes. Any save,
replacement or ``touch`` in between changes the stamp (a rewrite that keeps size and mtime still
changes the ctime; a file replaced by a rename changes the inode), so nothing is ever stored
under a fingerprint that does not describe the bytes that produced it.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from auditkit.errors import AuditError
from auditkit.types import Family, Stamp

BASE_PREFIX = "base:"      # an external base's files in an adapter's stamp


def model_stamp(path: Path, base_path: Path | None = None) -> Stamp:
    """The stamp of a model directory (its own files; a nested model is not part of it) or of a
    single file, plus the files of ``base_path`` (an adapter's base outside the family)."""
    stamp = _files_stamp(path, "")
    return stamp + _files_stamp(base_path, BASE_PREFIX) if base_path is not None else stamp


def _files_stamp(path: Path, prefix: str) -> Stamp:
    files = [path] if path.is_file() else sorted(p for p in path.iterdir() if p.is_file())
    out = []
    for file in files:
        st = file.stat()
        out.append((prefix + file.name, st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino))
    return tuple(out)


def with_ancestors(family: Family, names: Iterable[str]) -> list[str]:
    """``names`` and all their ancestors (an adapter's results depend on its base), each once."""
    return list(dict.fromkeys(n for name in names for n in (name, *family.ancestors(name))))


@dataclass(frozen=True)
class Stamped:
    """A member's files as they were fingerprinted (plain data: it travels to workers, which
    check their own copy against ``fingerprint``; ``kind`` and ``parent`` say how it is
    computed, see :mod:`auditkit.family.fingerprint`)."""

    name: str
    path: Path
    base_path: Path | None
    stamp: Stamp
    fingerprint: str = ""
    kind: str = "full"
    parent: str | None = None


def family_stamps(family: Family, names: Iterable[str]) -> tuple[Stamped, ...]:
    """The fingerprint-time stamps of ``names`` and of all their ancestors."""
    nodes = [family.get(name) for name in with_ancestors(family, names)]
    return tuple(Stamped(n.name, n.path, n.base_path, n.stamp, n.fingerprint, n.kind, n.parent)
                 for n in nodes)


def check_unchanged(family: Family, names: Iterable[str], when: str) -> None:
    """Raise if one of ``names`` or an ancestor changed on disk since it was fingerprinted;
    ``when`` says at which point of the run it was found ("before loading it", ...)."""
    check_stamps(family_stamps(family, names), when)


def check_stamps(stamps: Iterable[Stamped], when: str) -> None:
    """Raise an AuditError naming the first model whose files differ from its stamp."""
    for model in stamps:
        try:
            now, reason = model_stamp(model.path, model.base_path), "was modified"
        except OSError as exc:
            now, reason = None, f"cannot be read any more ({exc.strerror or exc})"
        if now != model.stamp:
            raise AuditError(model.path, f"the model {model.name!r} {reason} after it was "
                             f"fingerprinted (found {when}); nothing computed from it since "
                             "was stored (it would be filed under a fingerprint that does not "
                             "describe its files). Run again once it is stable")
