"""Is this machine's copy of a model the one the driver fingerprinted?

A worker on another node reads its own copy of each model (shared storage, or a copy per node).
Before it loads a group it calls :func:`verify_copies` with the group's stamps (taken where the
driver fingerprinted the models, :mod:`auditkit.family.stamp`):

- the files are those the driver fingerprinted (same name, size, mtime, ctime and inode: the
  same machine, or shared storage): nothing is hashed;
- otherwise the copy is fingerprinted here, as discovery does (:mod:`auditkit.family.fingerprint`,
  the per-file hashes cached in this node's cache directory), and must give the driver's
  fingerprint. A copy that differs, or is missing, is refused: its outcomes would be filed
  under a fingerprint that does not describe it.

The stamps returned are those the scoring then checks (before and once loading, as
:func:`auditkit.score.work.run_task` does): the driver's, or this node's own as they were when
the copy was verified.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from auditkit.errors import AuditError
from auditkit.family.discover import classify
from auditkit.family.fingerprint import FileCache, model_fingerprint
from auditkit.family.stamp import Stamped, model_stamp
from auditkit.types import Stamp


def verify_copies(stamps: Sequence[Stamped], *, node: str,
                  allow_pickle: bool = False) -> tuple[Stamped, ...]:
    """The stamps to score under; an AuditError naming ``node`` when a copy is not the
    driver's (see the module docstring)."""
    local = tuple(replace(s, stamp=_local_stamp(s, node)) for s in stamps)
    if all(mine.stamp == theirs.stamp for mine, theirs in zip(local, stamps)):
        return tuple(stamps)
    cache = FileCache()
    by_name = {s.name: s for s in stamps}
    found: dict[str, str] = {}
    for model in stamps:
        _fingerprint(model, by_name, found, cache, node, allow_pickle)
    cache.save()
    again = tuple(replace(s, stamp=_local_stamp(s, node)) for s in stamps)
    if again != local:
        changed = next(s.name for s, t in zip(again, local) if s != t)
        raise AuditError(by_name[changed].path, f"the model {changed!r} changed on node {node} "
                         "while its copy was being verified; run again once it is stable")
    return local


def _local_stamp(model: Stamped, node: str) -> Stamp:
    try:
        return model_stamp(model.path, model.base_path)
    except OSError as exc:
        raise AuditError(model.path, f"node {node} has no readable copy of the model "
                         f"{model.name!r} ({exc.strerror or exc}); every node that scores "
                         "needs the family at the same path (shared storage or a copy)") from None


def _fingerprint(model: Stamped, by_name: dict[str, Stamped], found: dict[str, str],
                 cache: FileCache, node: str, allow_pickle: bool) -> str:
    """This node's fingerprint of ``model`` (its parent's first), checked against the driver's."""
    if model.name in found:
        return found[model.name]
    parent: str | None = None
    if model.kind == "lora" and model.parent is not None:
        parent = _fingerprint(by_name[model.parent], by_name, found, cache, node, allow_pickle)
    elif model.kind == "lora" and model.base_path is not None:
        parent = _hash(model, model.base_path, None, cache, node, allow_pickle)
    mine = _hash(model, model.path, parent, cache, node, allow_pickle)
    if mine != model.fingerprint:
        raise AuditError(model.path, f"node {node} holds a different copy of the model "
                         f"{model.name!r}: fingerprint {mine[:12]} where the driver's is "
                         f"{model.fingerprint[:12]}; refused (its outcomes would be filed under "
                         "the driver's fingerprint). Give every node the same files")
    found[model.name] = mine
    return mine


def _hash(model: Stamped, path: Path, parent: str | None, cache: FileCache, node: str,
          allow_pickle: bool) -> str:
    """The fingerprint of the model at ``path`` (``parent``: its parent's, for an adapter)."""
    files = _files(model, path, node, cache, allow_pickle)
    try:
        return model_fingerprint(files, cache=cache, parent=parent)
    except (OSError, AuditError) as exc:
        raise AuditError(path, f"node {node} cannot fingerprint its copy of the model "
                         f"{model.name!r}: {exc}") from None


def _files(model: Stamped, path: Path, node: str, cache: FileCache,
           allow_pickle: bool) -> tuple[tuple[str, Path], ...]:
    """The files a fingerprint of the model at ``path`` covers, found as discovery finds them."""
    try:
        cand = classify(path, path.parent, cache=cache, allow_pickle=allow_pickle)
    except AuditError as err:
        raise AuditError(path, f"node {node}: {err.problems[0].message}") from None
    if cand is None:
        raise AuditError(path, f"node {node}: no model here (the driver's {model.name!r} was "
                         "found at this path)")
    return cand.files
