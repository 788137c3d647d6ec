"""The result cache: one row per (model fingerprint, probe version, item id, scoring config).

SQLite, so each batch is committed as it is produced: a killed run loses at most the batch in
flight, and the next run finds everything else. The cache is keyed by content (fingerprints,
probe versions), never by names, so a renamed model directory reuses its results and a changed
one never does.
"""
from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from auditkit.errors import AuditError
from auditkit.store.judgements import JudgementCache
from auditkit.store.schema import Outcome

_SCHEMA = """
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
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = sqlite3.connect(path)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
        except sqlite3.DatabaseError as err:
            raise AuditError(path, f"cannot open the result cache ({err}); delete it or pass "
                                   "another cache directory") from None
        self.judgements = JudgementCache(path, self._db)

    def get_many(self, fingerprint: str, probe_version: str, config: str,
                 items: Sequence[str]) -> dict[str, Outcome]:
        """Outcomes already stored for these items (item id -> outcome); misses left out.

        An entry that does not fit the current Outcome (a field it lacks has no default) is a
        miss too: it is scored again and replaced.
        """
        found: dict[str, Outcome] = {}
        query = ("SELECT item, outcome FROM results WHERE fingerprint=? AND probe_version=? "
                 "AND config=? AND item IN ({})")
        for start in range(0, len(items), 500):  # SQLite caps the number of bound parameters
            chunk = list(items[start:start + 500])
            sql = query.format(",".join("?" * len(chunk)))
            for item, outcome in self._db.execute(sql, [fingerprint, probe_version, config, *chunk]):
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
        with self._db:
            self._db.executemany("INSERT OR REPLACE INTO results VALUES (?, ?, ?, ?, ?)", rows)

    def count(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM results").fetchone()[0])

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> ResultCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _outcome(value: Outcome | Mapping[str, Any]) -> Outcome:
    return value if isinstance(value, Outcome) else Outcome.from_mapping(value)
