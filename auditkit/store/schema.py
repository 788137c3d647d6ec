"""The item-level results table (results.parquet): its columns, declared once as dataclasses.

A row is a :class:`ResultKey` (which model, probe and item), an :class:`Outcome` (what the
model did: what scorers return and the result cache stores) and the :class:`ScoringKey`
(the scoring configuration). Column order, pandas dtypes, which columns a run must hold and
docs/run-format.md all follow from these declarations: a new outcome field is one line in
:class:`Outcome`. Give it a default, so that cached outcomes and runs written before it still
read (a column with a default is optional in results.parquet).

Replies are stored apart from their judgements: for a judged kind (``generation``) the result
cache holds the reply unjudged (``label`` empty, ``failed`` false), and the judging stage
(:mod:`auditkit.judge.apply`, its own cache in :mod:`auditkit.store.judgements`) fills
``label``, ``harmful``, ``judge``, ``judge_version``, ``confidence`` and ``failed`` in a run's
results.
"""
from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, get_type_hints

import pandas as pd

from auditkit.store.codec import doc

_DTYPES = {str: "string", bool: "bool", float: "float64", int: "int64"}


@dataclass(frozen=True, kw_only=True)
class ResultKey:
    """Which model, probe and item a row is about."""

    model: str = doc("the member's name in the family")
    fingerprint: str = doc("the member's content fingerprint", "")
    probe: str = doc("probe name")
    probe_version: str = doc("probe version hash", "")
    kind: str = doc("`pair`, `choice` or `generation`")
    category: str = doc("probe category (`bias`, `safety`, ...)")
    dimension: str = doc("probe dimension (`gender`, `harmful`, ...)", "")
    item: str = doc("item id")
    group: str = doc("the item's group (may be empty)", "")


@dataclass(frozen=True, kw_only=True)
class Outcome:
    """What a model did on one item."""

    failed: bool = doc("the model failed the item (generation: the judge's label is one the "
                       "probe fails on, `scoring.fail_on`)")
    score: float = doc("pair: ll(stereotype) - ll(anti_stereotype) (> 0 means the stereotype "
                       "is preferred); choice: best wrong option's score - gold's score (> 0 "
                       "means failure); generation: NaN")
    chosen: int = doc("choice: index of the chosen option; pair: 0 if the stereotype was "
                      "preferred else 1; generation: -1")
    gold: int = doc("choice: gold index; otherwise -1", -1)
    bias_target: int = doc("choice: the item's bias-target index, -1 if none or not a choice "
                           "item", -1)
    n_options: int = doc("choice: number of options chosen among (an item's trailing "
                         "`also_true` options, further true answers, are not); pair: 2; "
                         "generation: 0")
    output: str = doc("generation: the model's reply; otherwise empty", "")
    label: str = doc("generation: the judge's label of the reply (`full_compliance`, "
                     "`partial_refusal`, `full_refusal`); otherwise empty", "")
    harmful: int = doc("generation: 1 when the judge says the reply gives the harmful help "
                       "asked for, 0 when it says not; -1 when not judged (log-likelihood "
                       "kinds, probes that do not record it, judges that do not say)", -1)
    judge: str = doc("generation: the judge's name (docs/judge.md); otherwise empty", "")
    judge_version: str = doc("generation: the judge's version; otherwise empty", "")
    confidence: float = doc("generation: the judge's probability of `label`; otherwise NaN",
                            math.nan)
    option_lls: str = doc("choice: every option's summed log-likelihood (before `normalize`), "
                          "in option order, as a JSON list (TruthfulQA's MC2 reads it); empty "
                          "for other kinds and for choice outcomes cached before it was kept",
                          "")

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any]) -> Outcome:
        """An outcome from a scorer's dict or the cache's JSON, each value cast to its field's
        type; ValueError naming the field when one is missing or unknown."""
        unknown = sorted(set(raw) - set(OUTCOME_COLUMNS))
        if unknown:
            raise ValueError(f"unknown outcome field {unknown[0]!r}; expected one of: "
                             f"{', '.join(OUTCOME_COLUMNS)}")
        missing = [k for k in OUTCOME_REQUIRED if k not in raw]
        if missing:
            raise ValueError(f"outcome field {missing[0]!r} is missing")
        return cls(**{k: _CAST[k](v) for k, v in raw.items()})

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in OUTCOME_COLUMNS}

    def __eq__(self, other: object) -> bool:
        """Field by field, NaN equal to NaN (an unjudged confidence, a generation score)."""
        if not isinstance(other, Outcome):
            return NotImplemented
        return all(_same(getattr(self, k), getattr(other, k)) for k in OUTCOME_COLUMNS)

    __hash__ = None  # type: ignore[assignment]  # NaN fields: equal outcomes, unequal hashes


def _same(a: Any, b: Any) -> bool:
    both_nan = isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b)
    return bool(a == b) or both_nan


@dataclass(frozen=True, kw_only=True)
class ScoringKey:
    config: str = doc("hash of the scoring configuration (what besides model and item affects "
                      "the result)", "")


ROW_PARTS = (ResultKey, Outcome, ScoringKey)     # in the order of results.parquet's columns


def _columns(cls: type) -> dict[str, dataclasses.Field[Any]]:
    return {f.name: f for f in dataclasses.fields(cls)}


def _dtype(cls: type, name: str) -> str:
    return _DTYPES[get_type_hints(cls)[name]]


# column -> pandas dtype; the order is the order written to results.parquet
RESULT_COLUMNS: dict[str, str] = {name: _dtype(cls, name) for cls in ROW_PARTS
                                  for name in _columns(cls)}
# the columns that depend on the model's behaviour (the rest identify model, probe and item)
OUTCOME_COLUMNS: tuple[str, ...] = tuple(_columns(Outcome))
OUTCOME_REQUIRED = tuple(k for k, f in _columns(Outcome).items()
                         if f.default is dataclasses.MISSING)
_CAST = {k: {"string": str, "bool": bool, "float64": float, "int64": int}[RESULT_COLUMNS[k]]
         for k in OUTCOME_COLUMNS}
# optional columns (absent from older runs) -> the value a reader fills in
COLUMN_DEFAULTS: dict[str, Any] = {name: f.default for cls in ROW_PARTS
                                   for name, f in _columns(cls).items()
                                   if f.default is not dataclasses.MISSING}
REQUIRED_COLUMNS: tuple[str, ...] = tuple(c for c in RESULT_COLUMNS if c not in COLUMN_DEFAULTS)


def results_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Rows (dicts with every required column of RESULT_COLUMNS; an optional column a row
    lacks takes its default) -> a typed, ordered DataFrame."""
    full = [{**COLUMN_DEFAULTS, **row} for row in rows]
    frame: pd.DataFrame = pd.DataFrame(full, columns=list(RESULT_COLUMNS)).astype(RESULT_COLUMNS)
    return frame
