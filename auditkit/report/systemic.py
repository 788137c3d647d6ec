"""Systemic failures: the items that all, or nearly all, models of the family fail."""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from auditkit.present import answer_text, item_view
from auditkit.report.items import ItemTexts

SYSTEMIC_SHARE = 0.9        # an item is systemic when at least this share of models fail it


@dataclass(frozen=True)
class Answer:
    """One answer and the models that gave it."""

    text: str
    models: tuple[str, ...]
    failed: bool


@dataclass(frozen=True)
class SystemicItem:
    """An item failed by ``n_failing`` of ``n_models`` models, with its text and the answers."""

    probe: str
    item: str
    kind: str
    n_failing: int
    n_models: int
    lines: tuple[tuple[str, str], ...]      # (label, text); empty when the text is unknown
    answers: tuple[Answer, ...]             # failing answers first, then by number of models


@dataclass(frozen=True)
class Systemic:
    threshold: int          # failed by at least this many models
    n_models: int
    total: int              # systemic items in the run (``items`` may be fewer)
    items: tuple[SystemicItem, ...]


def systemic_threshold(n_models: int, share: float = SYSTEMIC_SHARE) -> int:
    """ceil(share * M), at least 1: 7 models -> 7 (all), 60 models -> 54."""
    return max(1, math.ceil(share * n_models - 1e-9))


def failure_counts(results: pd.DataFrame, n_models: int) -> pd.DataFrame:
    """Per (probe, item) with a result for every model: n_failing; most failed first.

    Ties go round-robin over the probes (in run order), so that a cut list still shows every
    probe's systemic items rather than the first probe's alone; within a probe, item order.
    """
    counts = results.groupby(["probe", "item"], sort=False)["failed"].agg(["sum", "size"])
    counts = counts[counts["size"] == n_models].rename(columns={"sum": "n_failing"})
    probe = counts.index.get_level_values("probe")
    keys = pd.DataFrame({"n": -counts["n_failing"].to_numpy(),
                         "turn": counts.groupby(["n_failing", probe]).cumcount().to_numpy(),
                         "probe_rank": pd.factorize(probe)[0]}, index=counts.index)
    order = keys.sort_values(["n", "turn", "probe_rank"], kind="stable").index
    ranked: pd.DataFrame = counts.loc[order, ["n_failing"]]
    return ranked


def find_systemic(results: pd.DataFrame, models: Sequence[str], texts: ItemTexts, *,
                  share: float = SYSTEMIC_SHARE, limit: int = 40) -> Systemic:
    """The systemic items (at most ``limit`` of them, most failed first) with their answers."""
    results = results[results["model"].isin(models)]
    threshold = systemic_threshold(len(models), share)
    counts = failure_counts(results, len(models))
    hits = counts[counts["n_failing"] >= threshold]
    shown = hits.head(limit)
    items: tuple[SystemicItem, ...] = ()
    if len(shown):
        rows: pd.DataFrame = results.set_index(["probe", "item"]).loc[list(shown.index)]
        # a list of one key keeps a DataFrame even when a single model has a single row
        items = tuple(_item(probe, item, int(n), rows.loc[[(probe, item)]], models, texts)
                      for (probe, item), n in shown["n_failing"].items())
    return Systemic(threshold, len(models), len(hits), items)


def _item(probe: str, item_id: str, n_failing: int, rows: pd.DataFrame, models: Sequence[str],
          texts: ItemTexts) -> SystemicItem:
    item = texts.item(probe, item_id)
    by_model = {r["model"]: r for r in rows.reset_index().to_dict("records")}
    grouped: dict[tuple[str, bool], list[str]] = {}
    for model in models:
        row = by_model[model]
        answer = answer_text(item, kind=row["kind"], chosen=row["chosen"], output=row["output"])
        grouped.setdefault((answer, bool(row["failed"])), []).append(model)
    answers = sorted((Answer(text, tuple(ms), failed) for (text, failed), ms in grouped.items()),
                     key=lambda a: (not a.failed, -len(a.models)))
    kind = str(next(iter(by_model.values()))["kind"])
    return SystemicItem(probe, item_id, kind, n_failing, len(models), tuple(item_view(item)),
                        tuple(answers))
