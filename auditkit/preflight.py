"""Checks a run makes before anything costly: where it writes, and who judges its replies.

The other checks before scoring live with what they check: the family (discovery refuses an
empty directory or a broken model; :func:`auditkit.family.loadable.check_loadable` a member
that cannot be loaded), the probes (:func:`auditkit.audit.select_probes`), the cache (opened and
checked by :class:`auditkit.store.ResultCache`; a read-only cache that lacks outcomes is refused
by the engine before a model is loaded).
"""
from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path

from auditkit.errors import AuditError
from auditkit.types import Probe


def check_out_dir(path: Path, field: str = "--out") -> None:
    """``path`` can become the run directory: an existing directory (overwritten) or a new
    path below a directory this process can write in."""
    if path.exists() and not path.is_dir():
        raise AuditError(path, "exists and is not a directory; expected a run directory to "
                         "write (new, or an earlier run's, which is replaced)", field=field)
    parent = path
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise AuditError(parent, f"is a file, so the run directory {path} cannot be made "
                         "below it", field=field)
    try:
        with tempfile.TemporaryFile(dir=parent):
            pass
    except OSError as exc:
        raise AuditError(parent, f"cannot write here ({exc.strerror or exc}), so the run "
                         f"directory {path} cannot be written", field=field) from None


def check_judges(probes: Sequence[Probe], name: str | None, args: dict[str, object]) -> None:
    """The judge of every generation probe is registered and takes its arguments (``name``:
    the command line's ``--judge``, checked even when no probe is judged)."""
    from auditkit.judge.apply import JudgeChoice, judge_spec
    from auditkit.probes.kinds import get_kind

    choice = JudgeChoice(name, args)
    judged = [p for p in probes if get_kind(p.kind).judged]
    for probe in judged or (list(probes[:1]) if name is not None else []):
        judge_spec(probe, choice)
