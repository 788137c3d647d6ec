"""One import's reading state: whether bad records stop it, and what it skipped and counted.

A :class:`Reading` is handed to a reader and through it to the table readers of
:mod:`._tables`. Without ``skip_bad`` a malformed record raises its :class:`AuditError` (the
import stops, exit 2); with it, the record is left out and listed (:attr:`Reading.skipped`), so
nothing is lost silently. The reader also counts each source file's records (good and bad) for
the check against the published files (:mod:`.published`), and keeps notes for the user.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from auditkit.errors import AuditError, Problem

T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class Reading:
    """How one import reads its source files, and what it found (the lists fill as it reads)."""

    skip_bad: bool = False
    # published record count of a source file, when known (None: unknown)
    expected: Callable[[Path], int | None] = field(default=lambda path: None)
    skipped: list[Problem] = field(default_factory=list)
    counts: dict[Path, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def bad(self, err: AuditError) -> None:
        """A malformed record: raise ``err``, or (with ``skip_bad``) list it and go on."""
        if not self.skip_bad:
            raise err
        self.skipped.extend(err.problems)

    def each(self, rows: Iterable[T], make: Callable[[T], R]) -> list[R]:
        """``make(row)`` for every row; a row whose ``make`` raises is handled by :meth:`bad`."""
        out = []
        for row in rows:
            try:
                out.append(make(row))
            except AuditError as err:
                self.bad(err)
        return out

    def count(self, path: Path, records: int) -> None:
        """Record that ``path`` holds ``records`` records (malformed ones included)."""
        self.counts[path] = self.counts.get(path, 0) + records

    def skipped_notes(self) -> tuple[str, ...]:
        """One note per skipped record (file, line, why), for the output and the probe file."""
        return tuple(f"skipped a malformed record: {problem}" for problem in self.skipped)


def lenient(reading: Reading | None) -> Reading:
    """``reading``, or a fresh strict one when a reader is called without one."""
    return reading if reading is not None else Reading()
