"""Importers: public bias and safety datasets -> native probes (a YAML spec + a JSONL file).

``read_<format>(src)`` parses a dataset file into an :class:`ImportedProbe` without writing;
:func:`read_dataset` adds the checks every import gets (skipped records listed, the source
compared with the published files, ``strict``); :func:`import_dataset` reads and writes. Every
format's mapping, each failure mode and its message are in ``docs/probes/importers.md``.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

from auditkit.errors import AuditError
from auditkit.probes.importers._common import ImportedProbe, check_name, write_probe
from auditkit.probes.importers._reading import Reading
from auditkit.probes.importers.advbench import read_advbench
from auditkit.probes.importers.bbq import read_bbq
from auditkit.probes.importers.crows_pairs import read_crows_pairs
from auditkit.probes.importers.harmbench import read_harmbench
from auditkit.probes.importers.holisticbias import read_holisticbias
from auditkit.probes.importers.honest import read_honest, with_lexicon
from auditkit.probes.importers.published import (
    ExpectedRecords,
    deviations,
    digest_entry,
    strict_error,
    unchecked,
)
from auditkit.probes.importers.truthfulqa import read_truthfulqa
from auditkit.probes.importers.winobias import read_winobias
from auditkit.probes.importers.winogender import read_winogender
from auditkit.probes.importers.xstest import read_xstest

Reader = Callable[[Path, Reading | None], ImportedProbe]
READERS: dict[str, Reader] = {
    "crows-pairs": read_crows_pairs,
    "bbq": read_bbq,
    "winobias": read_winobias,
    "winogender": read_winogender,
    "xstest": read_xstest,
    "advbench": read_advbench,
    "harmbench": read_harmbench,
    "truthfulqa": read_truthfulqa,
    "holisticbias": read_holisticbias,
    "honest": read_honest,
}
FORMATS = tuple(READERS)

__all__ = [
    "FORMATS", "ImportedProbe", "Reading", "import_dataset", "print_digest", "read_dataset",
    "write_probe", "read_advbench", "read_bbq", "read_crows_pairs", "read_harmbench",
    "read_holisticbias", "read_honest", "read_truthfulqa", "read_winobias", "read_winogender",
    "read_xstest",
]


def _reader(fmt: str, src: Path) -> Reader:
    reader = READERS.get(fmt)
    if reader is None:
        raise AuditError(src, f"unknown dataset format {fmt!r}; expected one of "
                              f"{', '.join(FORMATS)}")
    if not src.exists():
        raise AuditError(src, "not found; expected a dataset file or directory")
    return reader


def read_dataset(fmt: str, src: Path, *, name: str | None = None, skip_bad: bool = False,
                 strict: bool = False, lexicon: Path | None = None) -> ImportedProbe:
    """The probe that dataset file (or directory) ``src`` of format ``fmt`` converts to.

    ``name`` replaces the default probe name. A malformed record raises, or with ``skip_bad``
    is left out and listed in the notes. A source that differs from the published file (record
    count, size, sha256) gets a warning, or raises under ``strict``. ``lexicon`` (honest only)
    is the HurtLex file that judges the completions."""
    reader = _reader(fmt, src)
    if lexicon is not None and fmt != "honest":
        raise AuditError(lexicon, f"--lexicon applies to the honest format only, not {fmt!r}")
    reading = Reading(skip_bad=skip_bad, expected=ExpectedRecords(fmt))
    probe = reader(src, reading)
    problems = deviations(fmt, reading.counts)
    if problems and strict:
        raise strict_error(problems)
    notes = (*probe.notes, *reading.notes, *unchecked(fmt, reading.counts),
             *reading.skipped_notes())
    probe = dataclasses.replace(probe, notes=notes, warnings=tuple(map(str, problems)))
    if name is not None:
        probe = dataclasses.replace(probe, name=check_name(name, src))
    return with_lexicon(probe, lexicon, src) if fmt == "honest" else probe


def import_dataset(fmt: str, src: Path, out: Path, *, name: str | None = None,
                   skip_bad: bool = False, strict: bool = False, force: bool = False,
                   lexicon: Path | None = None) -> Path:
    """Convert ``src`` and write ``out/<name>.yaml`` + ``out/<name>.jsonl``; returns the YAML
    path. A different probe of that name already in ``out`` is replaced only with ``force``."""
    probe = read_dataset(fmt, src, name=name, skip_bad=skip_bad, strict=strict,
                         lexicon=lexicon)
    return write_probe(probe, out, force=force)


def print_digest(fmt: str, src: Path) -> list[str]:
    """Table entries (:mod:`.published`) for the source file(s) as they are: size, sha256 and
    the record count the importer reads. The file must read without a malformed record."""
    reading = Reading(expected=ExpectedRecords(fmt))
    _reader(fmt, src)(src, reading)
    return [digest_entry(fmt, path, count) for path, count in sorted(reading.counts.items())]
