"""The cache's SQLite file: opening it (read-only when it cannot be written), a cheap integrity
check on open, and SQLite's errors turned into messages that name the file and say what to do.

A cache that cannot be written (its file or directory read-only) is opened read-only, and read
as an immutable file when even that needs a write (a WAL file cannot be created beside it): it
still serves a fully cached run. The check on open is SQLite's ``quick_check`` (about 0.3 s per
100 MB) for files up to :data:`QUICK_CHECK_MAX`; larger files get a check of the header and the
schema, and damage found later by a query gets the same message.
"""
from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from auditkit.errors import AuditError

QUICK_CHECK_MAX = 256 << 20
BUSY_TIMEOUT_S = 60.0     # how long a write waits for another process' transaction


@dataclass(frozen=True)
class Opened:
    """An open cache connection; ``read_only`` says why it cannot be written ("" if it can)."""

    db: sqlite3.Connection
    read_only: str = ""


def open_db(path: Path, schemas: Sequence[str]) -> Opened:
    """Open (creating it if need be) the SQLite file at ``path`` with the tables of
    ``schemas`` (``CREATE TABLE IF NOT EXISTS`` statements), after a cheap integrity check."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise AuditError(path.parent, f"cannot create the cache directory: "
                         f"{exc.strerror or exc}; set AUDITKIT_CACHE_DIR to a writable "
                         "directory") from None
    try:
        opened = Opened(_writable(path, schemas))
    except sqlite3.DatabaseError as err:
        if not path.exists() and error_kind(err) in ("readonly", "cantopen"):
            raise AuditError(path, f"cannot create the cache file ({err}): make {path.parent} "
                             "writable, or set AUDITKIT_CACHE_DIR to a writable "
                             "directory") from None
        if error_kind(err) not in ("readonly", "cantopen") or not path.is_file():
            raise cache_error(path, err, "opened") from None
        opened = Opened(_read_only(path, schemas), read_only=str(err))
    try:
        with guarded(path, "read"):
            check_quick(path, opened.db)
    except AuditError:
        opened.db.close()
        raise
    return opened


def _writable(path: Path, schemas: Sequence[str]) -> sqlite3.Connection:
    db = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S)
    try:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        for schema in schemas:
            db.executescript(schema)
        _probe_write(db)
    except sqlite3.Error:
        db.close()
        raise
    return db


def _probe_write(db: sqlite3.Connection) -> None:
    """Raise SQLITE_READONLY when the file cannot be written (SQLite opens a write-protected
    file read-only without a word); writes nothing."""
    version = db.execute("PRAGMA user_version").fetchone()[0]
    db.execute("BEGIN IMMEDIATE")
    try:
        db.execute(f"PRAGMA user_version = {int(version)}")
    finally:
        db.execute("ROLLBACK")


def _read_only(path: Path, schemas: Sequence[str]) -> sqlite3.Connection:
    """A read-only connection; tables the file lacks are made empty temporary tables."""
    last: sqlite3.Error | None = None
    for query in ("mode=ro", "immutable=1"):
        db = sqlite3.connect(f"{path.absolute().as_uri()}?{query}", uri=True,
                             timeout=BUSY_TIMEOUT_S)
        try:
            tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
            for schema in schemas:
                if _table_name(schema) not in tables:
                    db.executescript(schema.replace("CREATE TABLE", "CREATE TEMP TABLE", 1))
            return db
        except sqlite3.Error as err:
            db.close()
            last = err
    assert last is not None
    raise cache_error(path, last, "opened") from None


def _table_name(schema: str) -> str:
    return schema.split("EXISTS", 1)[1].split("(", 1)[0].strip()


def check_quick(path: Path, db: sqlite3.Connection) -> None:
    """SQLite's quick_check (a small file) or a read of the schema (a large one)."""
    if path.is_file() and path.stat().st_size > QUICK_CHECK_MAX:
        db.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return
    found = [row[0] for row in db.execute("PRAGMA quick_check(5)")]
    if found != ["ok"]:
        raise AuditError(path, damaged_message("; ".join(found)))


def damaged_message(detail: str) -> str:
    return (f"the cache file is damaged ({detail}); 'auditkit cache repair' copies its readable "
            "rows into a new file and keeps this one aside, and 'auditkit cache check' lists "
            "the damage")


def error_kind(err: sqlite3.Error) -> str:
    """corrupt, readonly, full, ioerr, busy, cantopen or other."""
    name = str(getattr(err, "sqlite_errorname", ""))
    text = str(err).lower()
    for kind, names, words in _KINDS:
        if name.startswith(names) or any(w in text for w in words):
            return kind
    return "other"


_KINDS = (
    ("corrupt", ("SQLITE_CORRUPT", "SQLITE_NOTADB"), ("malformed", "not a database")),
    ("readonly", ("SQLITE_READONLY",), ("readonly database",)),
    ("full", ("SQLITE_FULL",), ("disk is full",)),
    ("ioerr", ("SQLITE_IOERR",), ("disk i/o error",)),
    ("busy", ("SQLITE_BUSY", "SQLITE_LOCKED"), ("database is locked",)),
    ("cantopen", ("SQLITE_CANTOPEN",), ("unable to open",)),
)


def cache_error(path: Path, err: sqlite3.Error, doing: str) -> AuditError:
    """An AuditError naming ``path`` for an SQLite error met while the file was ``doing``
    (opened, read, written)."""
    kind = error_kind(err)
    if kind == "corrupt":
        return AuditError(path, damaged_message(str(err)))
    advice = {
        "readonly": "make the file and its directory writable, or set AUDITKIT_CACHE_DIR to "
                    "a writable directory",
        "full": "no space left: the disk, a quota or a file-size limit is full; free space "
                "and run again",
        "ioerr": "the disk, a quota or a file-size limit may be full, or the device failing; "
                 "run again once it is fixed",
        "busy": f"another process kept it locked for {BUSY_TIMEOUT_S:.0f} s; run again when "
                "it has finished",
        "cantopen": "check that the file and its directory exist and can be read",
    }.get(kind, "SQLite could not use it")
    kept = " (every chunk committed before is kept)" if doing == "written" else ""
    return AuditError(path, f"the cache could not be {doing} ({err}): {advice}{kept}")


@contextmanager
def guarded(path: Path, doing: str) -> Iterator[None]:
    """Turn an SQLite error inside the block into an AuditError naming ``path``."""
    try:
        yield
    except sqlite3.DatabaseError as err:
        raise cache_error(path, err, doing) from None


def select_in(db: sqlite3.Connection, path: Path, query: str, params: Sequence[object],
              keys: Sequence[str]) -> list[tuple[str, str]]:
    """Rows of ``query`` (its ``IN ({})`` filled with one ``?`` per key) for every key, asked
    500 keys at a time: SQLite caps the number of bound parameters."""
    rows: list[tuple[str, str]] = []
    for start in range(0, len(keys), 500):
        chunk = list(keys[start:start + 500])
        with guarded(path, "read"):
            rows += db.execute(query.format(",".join("?" * len(chunk))),
                               [*params, *chunk]).fetchall()
    return rows
