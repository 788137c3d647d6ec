"""The default judge's recipe: the candidates compared, the one chosen, and the training run.

``auditkit judge train --data ../shared/judge-data`` calls :func:`train_default`, which fits
:data:`DEFAULT` on the train splits of the three sources (:mod:`auditkit.judge.data`) and
writes ``model.json`` + ``weights.npz``; ``--compare`` first reruns :func:`comparison`, the
table in docs/judge.md. The choice (docs/judge.md, "Candidates"): the best selection score of
:mod:`auditkit.judge.select` among the candidates that do not read the request's words (a
judge that learns "this request looks harmful" from the request would call XSTest-style safe
prompts refused whatever the reply says), with the request used only through the cues' overlap.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import pandas as pd

from auditkit.judge.data import load_judge_data
from auditkit.judge.linear import LinearTextModel
from auditkit.judge.select import compare, selection_score
from auditkit.judge.train import BlockSpec, Candidate, export, fit

THREE_WAY_SOURCES = ("openai-rbr-gold", "chatgpt-refusals")
HARMFUL_SOURCES = ("openai-rbr-gold", "gptfuzz")


def _w(field: str, lo: int, hi: int) -> BlockSpec:
    return BlockSpec(field, "word", lo, hi)


def _c(field: str, lo: int, hi: int) -> BlockSpec:
    return BlockSpec(field, "char_wb", lo, hi)


WORDS = (_w("open", 1, 3), _w("body", 1, 2))
CANDIDATES: tuple[Candidate, ...] = (
    Candidate("cues", (), note="engineered cues only (heuristic flags, lexicons, shape)"),
    Candidate("body-words", (_w("body", 1, 2),), cues=False),
    Candidate("open+body-words", WORDS, cues=False),
    Candidate("open-chars+body-words", (_c("open", 2, 5), _w("body", 1, 2)), cues=False),
    Candidate("open-chars+body-words+cues", (_c("open", 2, 5), _w("body", 1, 2))),
    Candidate("open+body-words+cues", WORDS),
    Candidate("open+body-words+cues C=1", WORDS, C=1.0),
    Candidate("open+body-words+cues C=16", WORDS, C=16.0),
    Candidate("open+body-words+cues class-balanced", WORDS, class_balanced=True),
    Candidate("open-words+cues", (_w("open", 1, 3),)),
    Candidate("open+body-words+cues+request", WORDS + (_w("request", 1, 2),),
              note="reads the request's words"),
)
DEFAULT = "open+body-words+cues"


def candidate(name: str) -> Candidate:
    return next(c for c in CANDIDATES if c.name == name)


def comparison(data_dir: str | Path, names: list[str] | None = None,
               log: Callable[[str], None] = lambda s: None) -> pd.DataFrame:
    """The candidates' scores, per head, scheme and source (:func:`select.compare`)."""
    rows = load_judge_data(data_dir)
    chosen = [c for c in CANDIDATES if names is None or c.name in names]
    three = compare([r for r in rows if r.label is not None], chosen, THREE_WAY_SOURCES,
                    ("three_way",), log=log)
    harm = compare([r for r in rows if r.harmful is not None], chosen, HARMFUL_SOURCES,
                   ("harmful",), log=log)
    three.insert(0, "head", "three_way")
    harm.insert(0, "head", "harmful")
    return pd.concat([three, harm], ignore_index=True)


def scores_by_candidate(table: pd.DataFrame) -> pd.Series:
    """The selection score of each candidate (three-way head)."""
    return selection_score(table[table["head"] == "three_way"], THREE_WAY_SOURCES)


def train_default(data_dir: str | Path, out_dir: str | Path, name: str = DEFAULT) -> LinearTextModel:
    """Fit the chosen candidate on the train splits of every source; export it to ``out_dir``."""
    rows = [r for r in load_judge_data(data_dir) if r.split == "train"]
    fitted = fit(rows, candidate(name))
    counts = {s: sum(r.source == s for r in rows) for s in sorted({r.source for r in rows})}
    meta = {"trained_on": "train splits of " + ", ".join(f"{s} ({n})" for s, n in counts.items())}
    return export(fitted, out_dir, meta)
