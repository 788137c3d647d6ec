"""``auditkit cache check`` and ``auditkit cache repair``: find damage in the cache file, and
salvage its readable rows into a new file while the damaged one is set aside (never deleted).

Both tables (results, judgements) are keyed first by a SHA-256 in hex (a model fingerprint, a
reply key), so the key space is cut into 4,097 ranges by hex prefix; each range is read in key
order until a damaged page stops it, then backwards from its end, so damage costs only the rows
of the pages that hold it. A salvaged row must decode (UTF-8 text, a JSON value) to be kept.
"""
from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from auditkit.errors import AuditError
from auditkit.store.cache import RESULTS_SCHEMA
from auditkit.store.dbfile import error_kind
from auditkit.store.judgements import SCHEMA as JUDGEMENTS_SCHEMA


@dataclass(frozen=True)
class Table:
    name: str
    schema: str
    columns: tuple[str, ...]
    key: tuple[str, ...]          # the primary key, in order
    value: str                    # the JSON column


TABLES = (
    Table("results", RESULTS_SCHEMA, ("fingerprint", "probe_version", "item", "config",
                                      "outcome"),
          ("fingerprint", "probe_version", "item", "config"), "outcome"),
    Table("judgements", JUDGEMENTS_SCHEMA, ("reply", "judge", "judge_version", "judgement"),
          ("reply", "judge", "judge_version"), "judgement"),
)
BOUNDS = ["", *(f"{i:03x}" for i in range(16 ** 3))]
Row = tuple[str, ...]


@dataclass(frozen=True)
class CacheCheck:
    """What ``cache check`` found: SQLite's integrity_check messages (none: intact) and the
    rows that can be read, per table."""

    path: Path
    size: int
    problems: tuple[str, ...]
    readable: dict[str, int]

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class Repaired:
    """What ``cache repair`` did: rows copied per table, where the damaged file was put."""

    path: Path
    set_aside: Path
    salvaged: dict[str, int]


def check_cache(path: Path) -> CacheCheck:
    """Run SQLite's full integrity_check on the cache file and count its readable rows."""
    db = _open_source(path)
    try:
        try:
            found = [_text(row[0]) for row in db.execute("PRAGMA integrity_check(20)")]
        except sqlite3.DatabaseError as err:
            found = [str(err)]
        readable = {t.name: sum(1 for _ in salvage(db, t)) for t in TABLES}
    finally:
        db.close()
    problems = () if found == ["ok"] else tuple(found)
    return CacheCheck(path, path.stat().st_size, problems, readable)


def repair_cache(path: Path) -> Repaired:
    """Copy every readable row of ``path`` into a new file, set ``path`` aside as
    ``<name>.damaged-<UTC time>`` (with its -wal and -shm files), put the new file in its
    place. Run it while no other run uses the cache."""
    new = path.with_name(f"{path.name}.repair-{os.getpid()}.tmp")
    new.unlink(missing_ok=True)
    source = _open_source(path)
    try:
        salvaged = _copy(source, new)
    except OSError as exc:
        new.unlink(missing_ok=True)
        raise AuditError(new, f"cannot write the repaired cache: {exc.strerror or exc}") from None
    finally:
        source.close()
    aside = _set_aside(path)
    try:
        os.replace(new, path)
    except OSError as exc:
        raise AuditError(new, f"the repaired cache could not be put in place of {path} "
                         f"({exc.strerror or exc}); move it there yourself (the damaged file "
                         f"is {aside})") from None
    return Repaired(path, aside, salvaged)


def _open_source(path: Path) -> sqlite3.Connection:
    """The file opened read-only (as an immutable file when even that needs a write); a
    damaged file opens, its damage is for the check to report."""
    if not path.is_file():
        raise AuditError(path, "no cache file here (expected the SQLite file of a result "
                         "cache, by default $AUDITKIT_CACHE_DIR/results.sqlite)")
    for query in ("mode=ro", "immutable=1"):
        db = sqlite3.connect(f"{path.absolute().as_uri()}?{query}", uri=True)
        db.text_factory = bytes
        try:
            db.execute("SELECT count(*) FROM sqlite_master").fetchone()
            return db
        except sqlite3.DatabaseError as err:
            if error_kind(err) == "corrupt":
                return db
            db.close()
            problem = err
    raise AuditError(path, f"cannot open the cache file to read it: {problem}") from None


def _copy(source: sqlite3.Connection, new: Path) -> dict[str, int]:
    counts = {}
    try:
        db = sqlite3.connect(new)
        try:
            for table in TABLES:
                db.executescript(table.schema)
                marks = ", ".join("?" * len(table.columns))
                with db:
                    rows = salvage(source, table)
                    counts[table.name] = db.executemany(
                        f"INSERT OR REPLACE INTO {table.name} VALUES ({marks})", rows).rowcount
        finally:
            db.close()
    except sqlite3.DatabaseError as err:
        raise OSError(str(err)) from None
    return counts


def _set_aside(path: Path) -> Path:
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    aside = path.with_name(f"{path.name}.damaged-{stamp}")
    try:
        os.rename(path, aside)
        for suffix in ("-wal", "-shm"):   # they belong to the damaged file, never to the new one
            extra = path.with_name(path.name + suffix)
            if extra.exists():
                os.rename(extra, aside.with_name(aside.name + suffix))
    except OSError as exc:
        raise AuditError(path, f"cannot set the damaged cache aside: {exc.strerror or exc}; "
                         "it was left as it is") from None
    return aside


def salvage(db: sqlite3.Connection, table: Table) -> Iterator[Row]:
    """Every row of ``table`` that can be read and decoded, in key order by range."""
    if not _has_table(db, table.name):
        return
    for lo, hi in zip(BOUNDS, [*BOUNDS[1:], None]):
        yield from _range(db, table, lo, hi)


def _has_table(db: sqlite3.Connection, name: str) -> bool:
    try:
        rows = db.execute("SELECT name FROM sqlite_master WHERE type='table'").fetchall()
    except sqlite3.DatabaseError:
        return False
    return name.encode() in {row[0] for row in rows}


def _range(db: sqlite3.Connection, table: Table, lo: str, hi: str | None) -> list[Row]:
    """The readable rows whose first key column is in [lo, hi): forwards until an error, then
    backwards from the end down to the last row read."""
    first, rest = _scan(db, table, lo, hi, "ASC")
    if not rest:
        return first
    last = first[-1][:len(table.key)] if first else None
    tail = [r for r in _scan(db, table, lo, hi, "DESC")[0]
            if last is None or r[:len(table.key)] > last]
    return first + tail[::-1]


def _scan(db: sqlite3.Connection, table: Table, lo: str, hi: str | None,
          order: str) -> tuple[list[Row], bool]:
    """(rows read in ``order``, whether an error stopped the scan)."""
    head = table.key[0]
    where = f"{head} >= ?" + ("" if hi is None else f" AND {head} < ?")
    sql = (f"SELECT {', '.join(table.columns)} FROM {table.name} WHERE {where} ORDER BY "
           + ", ".join(f"{k} {order}" for k in table.key))
    rows: list[Row] = []
    try:
        for raw in db.execute(sql, [lo] if hi is None else [lo, hi]):
            row = _decoded(raw, table)
            if row is not None:
                rows.append(row)
    except sqlite3.DatabaseError:
        return rows, True
    return rows, False


def _text(value: object) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _decoded(raw: tuple[object, ...], table: Table) -> Row | None:
    try:
        row = tuple(v.decode("utf-8") if isinstance(v, bytes) else str(v) for v in raw)
        json.loads(row[table.columns.index(table.value)])
    except (UnicodeDecodeError, ValueError):
        return None
    return row
