"""The judgement cache: one judgement per (reply, judge name, judge version).

Replies are stored apart from their judgements: the result cache (:mod:`auditkit.store.cache`)
keeps a generation probe's reply, this table keeps what a judge said about it, in the same
SQLite file. A reply is keyed by content, :func:`reply_key` (the system prompt, the request and
the reply), so the same reply of two models, or of two runs, is judged once; a new judge or a
new version of one finds nothing here and re-judges the stored replies without regenerating
them. Each ``put_many`` is one committed transaction, so an interrupted judging stage resumes.
"""
from __future__ import annotations

import hashlib
import json
import math
import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from auditkit.store.dbfile import guarded, open_db, select_in

if TYPE_CHECKING:  # the judge package (and its models) loads only when judging
    from auditkit.judge.base import Judgement

SCHEMA = """
CREATE TABLE IF NOT EXISTS judgements (
    reply TEXT NOT NULL,            -- reply_key(system, request, reply)
    judge TEXT NOT NULL,
    judge_version TEXT NOT NULL,
    judgement TEXT NOT NULL,        -- JSON: label, confidence, harmful, harmful_confidence
    PRIMARY KEY (reply, judge, judge_version)
) WITHOUT ROWID;
"""


def reply_key(system: str | None, request: str, reply: str) -> str:
    """SHA-256 (hex) of the canonical JSON list [system or "", request, reply]."""
    text = json.dumps([system or "", request, reply], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def judgement_json(judgement: Judgement) -> str:
    return json.dumps({"label": judgement.label, "confidence": judgement.confidence,
                       "harmful": judgement.harmful,
                       "harmful_confidence": judgement.harmful_confidence}, sort_keys=True)


def judgement_from_json(text: str) -> Judgement | None:
    """The judgement stored as ``text``; None when it does not fit (then it is judged again)."""
    from auditkit.judge.base import LABELS, Judgement

    try:
        raw = json.loads(text)
    except json.JSONDecodeError:
        return None
    if not isinstance(raw, dict) or set(raw) != {"label", "confidence", "harmful",
                                                 "harmful_confidence"}:
        return None
    if raw["label"] not in LABELS or not _number(raw["confidence"]):
        return None
    if raw["harmful"] not in (True, False, None) or not _number(raw["harmful_confidence"], True):
        return None
    return Judgement(raw["label"], float(raw["confidence"]), raw["harmful"],
                     None if raw["harmful_confidence"] is None
                     else float(raw["harmful_confidence"]))


def _number(value: Any, optional: bool = False) -> bool:
    if value is None:
        return optional
    return isinstance(value, (int, float)) and not isinstance(value, bool) and not math.isnan(value)


class JudgementCache:
    """Look up and record judgements. ``db``: an open connection to share (the result cache's,
    which made the table; ``read_only`` says why it cannot be written, "" when it can), else
    the file at ``path`` is opened (created if missing; :func:`auditkit.store.dbfile.open_db`)."""

    def __init__(self, path: Path, db: sqlite3.Connection | None = None, *,
                 read_only: str = "") -> None:
        self.path = path
        self._own = db is None
        if db is None:
            opened = open_db(path, (SCHEMA,))
            db, read_only = opened.db, opened.read_only
        self._db = db
        self.read_only_reason = read_only

    def get_many(self, judge: str, version: str, keys: Sequence[str]) -> dict[str, Judgement]:
        """The judgements stored for these reply keys (key -> judgement); misses left out."""
        found: dict[str, Judgement] = {}
        query = ("SELECT reply, judgement FROM judgements WHERE judge=? AND judge_version=? "
                 "AND reply IN ({})")
        for key, text in select_in(self._db, self.path, query, [judge, version], keys):
            judgement = judgement_from_json(text)
            if judgement is not None:
                found[key] = judgement
        return found

    def put_many(self, judge: str, version: str,
                 judgements: Iterable[tuple[str, Judgement]]) -> None:
        """Record (reply key, judgement) pairs in one transaction (replacing older values)."""
        rows = [(key, judge, version, judgement_json(j)) for key, j in judgements]
        with guarded(self.path, "written"), self._db:
            self._db.executemany("INSERT OR REPLACE INTO judgements VALUES (?, ?, ?, ?)", rows)

    def count(self, judge: str | None = None) -> int:
        """Judgements stored (of ``judge`` only, when given)."""
        sql = "SELECT COUNT(*) FROM judgements" + ("" if judge is None else " WHERE judge=?")
        args = () if judge is None else (judge,)
        with guarded(self.path, "read"):
            return int(self._db.execute(sql, args).fetchone()[0])

    def close(self) -> None:
        if self._own:
            self._db.close()

    def __enter__(self) -> JudgementCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

