"""The file of an external member's outputs (JSONL or Parquet), read strictly.

One row per (probe, item): ``probe`` and ``item`` (strings), then ``reply`` (a string: the
model's reply to a generation item) or ``loglikelihoods`` (a list of numbers: the log-likelihood
of each of the item's requests, in the order ``auditkit prompts export`` writes them: a choice
item's options, a pair item's stereotypical then anti-stereotypical sentence). Unknown keys,
wrong types and a (probe, item) given twice are errors naming the file, the line (the row of a
Parquet file) and the field.
"""
from __future__ import annotations

import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from auditkit.errors import AuditError, Problem, ValidationError

KEYS = ("probe", "item", "reply", "loglikelihoods")
ANSWERS = ("reply", "loglikelihoods")


@dataclass(frozen=True)
class Row:
    line: int
    reply: str | None = None
    loglikelihoods: tuple[float, ...] | None = None


@dataclass(frozen=True)
class Outputs:
    """An external member's outputs: (probe, item) -> its row."""

    path: Path
    digest: str
    rows: dict[tuple[str, str], Row]

    def answer(self, probe: str, item: str, slot: int, column: str) -> Any:
        """The ``column`` answer to the ``slot``-th request of (probe, item); None when the file
        has no row for it; an AuditError when the row lacks that answer."""
        row = self.rows.get((probe, item))
        if row is None:
            return None
        if column == "reply":
            if row.reply is None:
                raise AuditError(self.path, f"probe {probe!r} item {item!r} is a generation: "
                                 "expected its reply", line=row.line, field=column)
            return row.reply
        lls = row.loglikelihoods
        if lls is None or slot >= len(lls):
            found = "none" if lls is None else str(len(lls))
            raise AuditError(self.path, f"probe {probe!r} item {item!r}: expected a "
                             f"log-likelihood per request (one per option; at least {slot + 1}),"
                             f" found {found}", line=row.line, field=column)
        return lls[slot]


def load_outputs(path: Path, *, digest: str = "") -> Outputs:
    """The outputs in ``path`` (.jsonl or .parquet); every problem reported at once."""
    problems: list[Problem] = []
    rows: dict[tuple[str, str], Row] = {}
    for line, raw in _records(path):
        parsed = _row(raw, line, path, problems)
        if parsed is None:
            continue
        key, row = parsed
        if key in rows:
            problems.append(Problem(str(path), f"probe {key[0]!r} item {key[1]!r} is also on "
                                    f"line {rows[key].line}", line=line, field="item"))
            continue
        rows[key] = row
    if problems:
        raise ValidationError(problems)
    return Outputs(path=path, digest=digest, rows=rows)


def _records(path: Path) -> Iterator[tuple[int, Any]]:
    """(line or row number, record) of the file."""
    if path.suffix.lower() == ".parquet":
        yield from _parquet_records(path)
        return
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise AuditError(path, f"cannot read the outputs: {exc}") from None
    for number, text in enumerate(lines, 1):
        if not text.strip():
            continue
        try:
            yield number, json.loads(text)
        except json.JSONDecodeError as exc:
            raise AuditError(path, f"not valid JSON: {exc.msg}", line=number) from None


def _parquet_records(path: Path) -> Iterator[tuple[int, Any]]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except (OSError, pa.ArrowException) as exc:
        raise AuditError(path, f"cannot read the Parquet file: {exc}") from None
    for number, record in enumerate(table.to_pylist(), 1):
        yield number, {k: v for k, v in record.items() if v is not None}


def _row(raw: Any, line: int, path: Path,
         problems: list[Problem]) -> tuple[tuple[str, str], Row] | None:
    def bad(message: str, field: str | None = None) -> None:
        problems.append(Problem(str(path), message, line=line, field=field))

    if not isinstance(raw, dict):
        bad(f"expected an object with {', '.join(KEYS)}, found {type(raw).__name__}")
        return None
    before = len(problems)
    for key in sorted(set(raw) - set(KEYS)):
        bad(f"unknown key {key!r}; expected one of {', '.join(KEYS)}", key)
    for key in ("probe", "item"):
        if not isinstance(raw.get(key), str) or not raw[key]:
            bad(f"expected a non-empty string, found {raw.get(key)!r}", key)
    given = [k for k in ANSWERS if k in raw]
    if len(given) != 1:
        bad(f"expected exactly one of {' or '.join(ANSWERS)}, found "
            f"{' and '.join(given) or 'neither'}", "reply")
    reply, lls = raw.get("reply"), _numbers(raw.get("loglikelihoods"))
    if "reply" in raw and not isinstance(reply, str):
        bad(f"expected a string, found {reply!r}", "reply")
    if "loglikelihoods" in raw and lls is None:
        bad("expected a non-empty list of numbers (none NaN), found "
            f"{raw['loglikelihoods']!r}", "loglikelihoods")
    if len(problems) > before:
        return None
    return (raw["probe"], raw["item"]), Row(line, reply, lls)


def _numbers(value: Any) -> tuple[float, ...] | None:
    if not isinstance(value, list) or not value:
        return None
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
        return None
    numbers = tuple(float(v) for v in value)
    return None if any(math.isnan(v) for v in numbers) else numbers
