"""Reading the public datasets' files (CSV, TSV, JSONL, numbered text) with their line numbers.

Every reader opens the file as UTF-8 with any byte-order mark dropped, keeps CRLF and bare LF
apart the way a real CSV reader must (``newline=""``), and turns anything malformed into an
:class:`AuditError` naming the file, the line and what was expected. A malformed record goes
through the import's :class:`Reading` (stop, or skip and list); so does a last record that the
file ends inside of, without a line break (the mark of a file cut short).
"""
from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from auditkit.errors import AuditError
from auditkit.probes.importers._reading import Reading, lenient


@dataclass(frozen=True)
class Row:
    """One record of a source file: the line it starts on (1-based) and its fields by column."""

    line: int
    values: dict[str, Any]
    index: int = -1      # 0-based position among the file's records, malformed ones included

    def __getitem__(self, key: str) -> Any:
        return self.values[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)


def open_text(path: Path) -> TextIO:
    """``path`` opened for reading as UTF-8 (BOM dropped), line endings left as they are."""
    if not path.is_file():
        raise AuditError(path, "not found; expected a file" if not path.exists()
                         else "is not a file; expected a file")
    return open(path, encoding="utf-8-sig", newline="")


def read_text(path: Path, what: str = "text") -> str:
    """The whole file as text (see :func:`open_text`); a decoding error names the byte."""
    try:
        with open_text(path) as handle:
            return handle.read()
    except UnicodeDecodeError as err:
        raise AuditError(path, f"not UTF-8 text ({err.reason} at byte {err.start}); "
                               f"expected a UTF-8 {what} file") from None


def read_csv(path: Path, columns: tuple[str, ...], reading: Reading | None = None, *,
             delimiter: str = ",", universal_newlines: bool = False) -> list[Row]:
    """The records of a CSV file with a header holding at least ``columns`` (others are kept).
    A malformed record stops the import, or is skipped and listed (``reading.skip_bad``).
    ``universal_newlines`` reads CRLF and CR inside quoted fields as LF, as a file opened
    without ``newline=""`` does (for datasets whose own code reads them that way)."""
    reading = lenient(reading)
    text = read_text(path, "CSV")
    if universal_newlines:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    records = list(_csv_rows(path, io.StringIO(text, newline=""), columns, delimiter, reading))
    rows = [row for row in records if row is not None]
    # a last record that is itself malformed is already listed; else the missing line break
    if text and not text.endswith(("\n", "\r")) and records and records[-1] is not None:
        _unterminated(path, rows, reading)
    return rows


def _csv_rows(path: Path, handle: TextIO, columns: tuple[str, ...], delimiter: str,
              reading: Reading) -> Iterator[Row | None]:
    """Each record as a Row, or None when malformed (and skipped)."""
    reader = csv.reader(handle, delimiter=delimiter, strict=True)
    header = _header(path, reader, columns)
    start, index = reader.line_num + 1, 0
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as err:
            reading.count(path, 1)
            reading.bad(AuditError(path, f"not valid CSV ({err}); expected {len(header)} "
                                         "comma-separated fields, quoted where needed",
                                   line=start))
            fields = []
            index += 1
            yield None
        if fields:  # a blank line is not a record
            reading.count(path, 1)
            try:
                row: Row | None = Row(start, _fields(path, header, fields, start), index)
            except AuditError as err:
                reading.bad(err)
                row = None
            yield row
            index += 1
        start = reader.line_num + 1


def _unterminated(path: Path, rows: list[Row], reading: Reading) -> None:
    if rows and not last_record_complete(path, rows[-1].line, reading):
        rows.pop()


def last_record_complete(path: Path, line: int, reading: Reading) -> bool:
    """The file does not end with a line break, so its last record (at ``line``) may be cut
    short: taken as complete only when the file holds exactly the published number of
    records; else a malformed record (raised, or listed and left out: returns False)."""
    expected, found = reading.expected(path), reading.counts.get(path, 0)
    if expected is not None and found == expected:
        reading.notes.append(f"{path.name} ends without a line break; it holds the published "
                             f"{expected} records, so its last record is taken as complete")
        return True
    reading.bad(AuditError(path, "the file ends inside this record, without a line break: "
                                 "the file may be truncated (cut inside the record); if it is "
                                 "complete as published, add a line break at its end",
                           line=line))
    return False


def _header(path: Path, reader: Any, columns: tuple[str, ...]) -> list[str]:
    try:
        header: list[str] = next(reader)
    except StopIteration:
        raise AuditError(path, f"empty file; expected a header line with columns "
                               f"{_names(columns)}", line=1) from None
    except csv.Error as err:
        raise AuditError(path, f"not valid CSV ({err})", line=1) from None
    for column in columns:
        if column not in header:
            raise AuditError(path, f"missing column {column!r}; the header has "
                                   f"{_names(header)}, expected {_names(columns)}",
                             field=column or "(unnamed first column)", line=1)
    if len(set(header)) != len(header):
        raise AuditError(path, f"a column name appears twice in the header {_names(header)}",
                         line=1)
    return header


def _fields(path: Path, header: list[str], fields: list[str], line: int) -> dict[str, str]:
    if len(fields) != len(header):
        raise AuditError(path, f"expected {len(header)} fields ({_names(header)}), "
                               f"found {len(fields)}", line=line)
    return dict(zip(header, fields))


def _names(columns: Any) -> str:
    return ", ".join(repr(c) for c in columns)


def read_tsv_lines(path: Path, columns: tuple[str, ...],
                   reading: Reading | None = None) -> list[Row]:
    """A tab-separated file read line by line (no CSV quoting: sentences may hold quotes)."""
    reading = lenient(reading)
    lines, terminated = read_lines(path)
    if not lines or lines[0][1].split("\t") != list(columns):
        found = lines[0][1].split("\t") if lines else []
        raise AuditError(path, f"expected the header {_names(columns)} (tab-separated), "
                               f"found {_names(found)}", line=1)
    records = lines[1:]
    reading.count(path, len(records))
    if records and not terminated and not last_record_complete(path, records[-1][0], reading):
        records = records[:-1]
    return reading.each(enumerate(records), lambda pair: _tsv_row(path, columns, *pair))


def _tsv_row(path: Path, columns: tuple[str, ...], index: int,
             line: tuple[int, str]) -> Row:
    number, text = line
    fields = text.split("\t")
    if len(fields) != len(columns):
        raise AuditError(path, f"expected {len(columns)} tab-separated fields "
                               f"({_names(columns)}), found {len(fields)}", line=number)
    return Row(number, dict(zip(columns, fields)), index)


def read_lines(path: Path) -> tuple[list[tuple[int, str]], bool]:
    """The non-blank lines of a text file, with their 1-based numbers, line endings removed,
    and whether the file ends with a line break (a file cut short usually does not)."""
    text = read_text(path)
    # split on LF only (str.splitlines would also split on U+2028 etc. inside JSON strings),
    # then drop the CR of a CRLF ending
    lines = (line.removesuffix("\r") for line in text.split("\n"))
    numbered = [(n, line) for n, line in enumerate(lines, start=1) if line.strip()]
    return numbered, not text or text.endswith("\n")


def read_jsonl(path: Path, reading: Reading | None = None) -> list[Row]:
    """One JSON object per non-blank line (a line cut short does not parse)."""
    reading = lenient(reading)
    lines, _ = read_lines(path)
    reading.count(path, len(lines))
    return reading.each(enumerate(lines), lambda pair: _json_row(path, pair[0], *pair[1]))


def _json_row(path: Path, index: int, number: int, text: str) -> Row:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as err:
        raise AuditError(path, f"not valid JSON ({err.msg}, column {err.colno}); "
                               "expected one JSON object per line", line=number) from None
    if not isinstance(value, dict):
        raise AuditError(path, f"expected a JSON object, found {type(value).__name__}",
                         line=number)
    return Row(number, value, index)


def require(path: Path, row: Row, keys: tuple[str, ...]) -> None:
    """Raise when ``row`` lacks one of ``keys`` (for JSON records, where keys vary by line)."""
    for key in keys:
        if key not in row.values:
            raise AuditError(path, f"missing key {key!r}; expected the keys {_names(keys)}",
                             field=key, line=row.line)


def text_field(path: Path, row: Row, key: str) -> str:
    """``row[key]`` as a non-empty string."""
    value = row.get(key)
    if not isinstance(value, str) or not value.strip():
        raise AuditError(path, f"expected a non-empty string, found {value!r}", field=key,
                         line=row.line)
    return value
