"""Reading the public datasets' files (CSV, TSV, JSONL, numbered text) with their line numbers.

Every reader opens the file as UTF-8 with any byte-order mark dropped, keeps CRLF and bare LF
apart the way a real CSV reader must (``newline=""``), and turns anything malformed into an
:class:`AuditError` naming the file, the line and what was expected.
"""
from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from auditkit.errors import AuditError


@dataclass(frozen=True)
class Row:
    """One record of a source file: the line it starts on (1-based) and its fields by column."""

    line: int
    values: dict[str, Any]

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


def read_csv(path: Path, columns: tuple[str, ...], *, delimiter: str = ",") -> list[Row]:
    """The records of a CSV file with a header holding at least ``columns`` (others are kept)."""
    try:
        with open_text(path) as handle:
            return list(_csv_rows(path, handle, columns, delimiter))
    except UnicodeDecodeError as err:
        raise AuditError(path, f"not UTF-8 text ({err.reason} at byte {err.start}); "
                               "expected a UTF-8 CSV file") from None


def _csv_rows(path: Path, handle: TextIO, columns: tuple[str, ...],
              delimiter: str) -> Iterator[Row]:
    reader = csv.reader(handle, delimiter=delimiter, strict=True)
    header = _header(path, reader, columns)
    start = reader.line_num + 1
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as err:
            raise AuditError(path, f"not valid CSV ({err}); expected {len(header)} "
                                   "comma-separated fields, quoted where needed",
                             line=start) from None
        if fields:  # a blank line is not a record
            yield Row(start, _fields(path, header, fields, start))
        start = reader.line_num + 1


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


def read_tsv_lines(path: Path, columns: tuple[str, ...]) -> list[Row]:
    """A tab-separated file read line by line (no CSV quoting: sentences may hold quotes)."""
    lines = read_lines(path)
    if not lines or lines[0][1].split("\t") != list(columns):
        found = lines[0][1].split("\t") if lines else []
        raise AuditError(path, f"expected the header {_names(columns)} (tab-separated), "
                               f"found {_names(found)}", line=1)
    rows = []
    for number, text in lines[1:]:
        fields = text.split("\t")
        if len(fields) != len(columns):
            raise AuditError(path, f"expected {len(columns)} tab-separated fields "
                                   f"({_names(columns)}), found {len(fields)}", line=number)
        rows.append(Row(number, dict(zip(columns, fields))))
    return rows


def read_lines(path: Path) -> list[tuple[int, str]]:
    """The non-blank lines of a text file, with their 1-based numbers, line endings removed."""
    try:
        with open_text(path) as handle:
            text = handle.read()
    except UnicodeDecodeError as err:
        raise AuditError(path, f"not UTF-8 text ({err.reason} at byte {err.start})") from None
    # split on LF only (str.splitlines would also split on U+2028 etc. inside JSON strings),
    # then drop the CR of a CRLF ending
    lines = (line.removesuffix("\r") for line in text.split("\n"))
    return [(n, line) for n, line in enumerate(lines, start=1) if line.strip()]


def read_jsonl(path: Path) -> list[Row]:
    """One JSON object per non-blank line."""
    rows = []
    for number, text in read_lines(path):
        try:
            value = json.loads(text)
        except json.JSONDecodeError as err:
            raise AuditError(path, f"not valid JSON ({err.msg}, column {err.colno}); "
                                   "expected one JSON object per line", line=number) from None
        if not isinstance(value, dict):
            raise AuditError(path, f"expected a JSON object, found {type(value).__name__}",
                             line=number)
        rows.append(Row(number, value))
    return rows


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
