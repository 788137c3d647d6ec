"""Importers: public bias and safety datasets -> native probes (a YAML spec + a JSONL file).

``read_<format>(src)`` parses a dataset file into an :class:`ImportedProbe` without writing;
:func:`import_dataset` reads and writes. Every format's mapping, and how it differs from the
original paper's scoring, is in ``docs/probes/importers.md``.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

from auditkit.errors import AuditError
from auditkit.probes.importers._common import ImportedProbe, check_name, write_probe
from auditkit.probes.importers.advbench import read_advbench
from auditkit.probes.importers.bbq import read_bbq
from auditkit.probes.importers.crows_pairs import read_crows_pairs
from auditkit.probes.importers.harmbench import read_harmbench
from auditkit.probes.importers.truthfulqa import read_truthfulqa
from auditkit.probes.importers.winobias import read_winobias
from auditkit.probes.importers.winogender import read_winogender
from auditkit.probes.importers.xstest import read_xstest

READERS: dict[str, Callable[[Path], ImportedProbe]] = {
    "crows-pairs": read_crows_pairs,
    "bbq": read_bbq,
    "winobias": read_winobias,
    "winogender": read_winogender,
    "xstest": read_xstest,
    "advbench": read_advbench,
    "harmbench": read_harmbench,
    "truthfulqa": read_truthfulqa,
}
FORMATS = tuple(READERS)

__all__ = [
    "FORMATS", "ImportedProbe", "import_dataset", "read_dataset", "write_probe",
    "read_advbench", "read_bbq", "read_crows_pairs", "read_harmbench", "read_truthfulqa",
    "read_winobias", "read_winogender", "read_xstest",
]


def read_dataset(fmt: str, src: Path, *, name: str | None = None) -> ImportedProbe:
    """The probe that dataset file (or directory) ``src`` of format ``fmt`` converts to;
    ``name`` replaces the default probe name."""
    reader = READERS.get(fmt)
    if reader is None:
        raise AuditError(src, f"unknown dataset format {fmt!r}; expected one of "
                              f"{', '.join(FORMATS)}")
    if not src.exists():
        raise AuditError(src, "not found; expected a dataset file or directory")
    probe = reader(src)
    if name is not None:
        probe = dataclasses.replace(probe, name=check_name(name, src))
    return probe


def import_dataset(fmt: str, src: Path, out: Path, *, name: str | None = None) -> Path:
    """Convert ``src`` and write ``out/<name>.yaml`` + ``out/<name>.jsonl``; returns the YAML
    path."""
    return write_probe(read_dataset(fmt, src, name=name), out)
