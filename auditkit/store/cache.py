"""The result cache: one row per (model fingerprint, probe version, item id, scoring config).

SQLite, so each batch is committed as it is produced: a killed run loses at most the batch in
flight, and the next run finds everything else. The cache is keyed by content (fingerprints,
probe versions), never by names, so a renamed model directory reuses its results and a changed
one never does. The file is checked when it is opened, opened read-only when it cannot be
written, and every SQLite error becomes an AuditError naming it (:mod:`auditkit.store.dbfile`).
"""
from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from auditkit.errors import AuditError
from auditkit.paths import cache_dir
from auditkit.store.dbfile import guarded, open_db, select_in
from auditkit.store.judgements import SCHEMA as JUDGEMENTS_SCHEMA
from auditkit.store.judgements import JudgementCache
from auditkit.store.schema import Outcome

CACHE_FILE = "results.sqlite"

RESULTS_SCHEMA = """
CREATE TABLE IF NOT EXISTS results (
    fingerprint TEXT NOT NULL,
    probe_version TEXT NOT NULL,
    item TEXT NOT NULL,
    config TEXT NOT NULL,
    outcome TEXT NOT NULL,          -- JSON object of the Outcome's fields
    PRIMARY KEY (fingerprint, probe_version, item, config)
) WITHOUT ROWID;
"""


class ResultCache:
    """Look up and record item outcomes; every ``put_many`` is one committed transaction.

    ``judgements`` is the judgement cache of the same file (its own table, same connection).
    ``writable`` is False when the file could only be opened read-only (``read_only_reason``
    says why): it then serves what it holds, and a write is an AuditError saying so.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        opened = open_db(path, (RESULTS_SCHEMA, JUDGEMENTS_SCHEMA))
        self._db: sqlite3.Connection = opened.db
        self.read_only_reason = opened.read_only
        self.writable = not opened.read_only
        self.judgements = JudgementCache(path, self._db, read_only=opened.read_only)

    def get_many(self, fingerprint: str, probe_version: str, config: str,
                 items: Sequence[str]) -> dict[str, Outcome]:
        """Outcomes already stored for these items (item id -> outcome); misses left out.

        An entry that does not fit the current Outcome (a field it lacks has no default) is a
        miss too: it is scored again and replaced.
        """
        found: dict[str, Outcome] = {}
        query = ("SELECT item, outcome FROM results WHERE fingerprint=? AND probe_version=? "
                 "AND config=? AND item IN ({})")
        for item, outcome in select_in(self._db, self.path, query,
                                       [fingerprint, probe_version, config], items):
            try:
                found[item] = Outcome.from_mapping(json.loads(outcome))
            except ValueError:
                continue
        return found

    def put_many(self, fingerprint: str, probe_version: str, config: str,
                 outcomes: Iterable[tuple[str, Outcome | Mapping[str, Any]]]) -> None:
        """Record (item id, outcome) pairs in one transaction (replacing older values);
        a mapping (a scorer's dict) is checked against :class:`Outcome` first."""
        rows = [(fingerprint, probe_version, item, config, json.dumps(
                    _outcome(outcome).to_dict(), sort_keys=True)) for item, outcome in outcomes]
        with guarded(self.path, "written"), self._db:
            self._db.executemany("INSERT OR REPLACE INTO results VALUES (?, ?, ?, ?, ?)", rows)

    def count(self) -> int:
        with guarded(self.path, "read"):
            return int(self._db.execute("SELECT COUNT(*) FROM results").fetchone()[0])

    def close(self) -> None:
        try:
            self._db.close()
        except sqlite3.Error:
            pass        # every transaction was committed (or rolled back); nothing is lost

    def __enter__(self) -> ResultCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def default_cache_path() -> Path:
    """The result cache of this user: ``cache_dir()/results.sqlite``."""
    try:
        return cache_dir() / CACHE_FILE
    except OSError as exc:
        raise AuditError(getattr(exc, "filename", None) or "AUDITKIT_CACHE_DIR",
                         f"cannot create the cache directory: {exc.strerror or exc}; set "
                         "AUDITKIT_CACHE_DIR to a writable directory") from None


def _outcome(value: Outcome | Mapping[str, Any]) -> Outcome:
    return value if isinstance(value, Outcome) else Outcome.from_mapping(value)
