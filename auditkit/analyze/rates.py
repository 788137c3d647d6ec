"""Failure rates per model with Wilson intervals, and the chance level beside each."""
from __future__ import annotations

import numpy as np
import pandas as pd

from auditkit.analyze.matrix import FailureMatrix
from auditkit.analyze.stats import wilson_interval


def chance_failure(kind: np.ndarray, n_options: np.ndarray) -> np.ndarray:
    """(N,) the failure rate of a model with no preference, per item; NaN: no chance level.

    - pair: 1/2. A model indifferent between the two sentences prefers either half the time
      (CrowS-Pairs: an unbiased model scores 50%; Nangia et al. 2020).
    - choice with k options: (k - 1) / k. A uniform pick is right with probability 1/k (BBQ's
      three options: 2/3; Parrish et al. 2022). Items with k < 2 have no chance level.
    - generation: none. A reply has no uniform alternative to compare with.
    """
    kind = np.asarray(kind, dtype=object)
    k = np.asarray(n_options, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        choice = np.where(k >= 2, (k - 1) / k, np.nan)
    return np.where(kind == "pair", 0.5, np.where(kind == "choice", choice, np.nan))


def failure_rates(fm: FailureMatrix) -> pd.DataFrame:
    """One row per model: n_items, n_failed, rate = n_failed / n_items and its 95% Wilson
    interval, and the chance level on the items that have one (:func:`chance_failure`):
    n_chance_items, chance_rate (their mean chance failure rate) and chance_items_rate (the
    model's failure rate on them), NaN without such items.

    Columns: model, n_items, n_failed, rate, rate_lo, rate_hi, n_chance_items, chance_rate,
    chance_items_rate (rate NaN when there are no items).
    """
    n_failed = fm.F.sum(axis=1)                       # (n_models,)
    n = fm.n_items
    lo, hi = wilson_interval(n_failed, n)
    chance = chance_failure(fm.item_kind, fm.n_options)                   # (n_items,)
    has = np.isfinite(chance)
    n_chance = int(has.sum())
    table: pd.DataFrame = pd.DataFrame({
        "model": list(fm.models),
        "n_items": n,
        "n_failed": n_failed.astype(int),
        "rate": n_failed / n if n else float("nan"),
        "rate_lo": lo,
        "rate_hi": hi,
        "n_chance_items": n_chance,
        "chance_rate": float(chance[has].mean()) if n_chance else float("nan"),
        "chance_items_rate": (fm.F[:, has].sum(axis=1) / n_chance if n_chance
                              else np.full(fm.n_models, np.nan)),
    })
    return table


def shared_chance(fm: FailureMatrix) -> float:
    """mean_i c_i^2: the share of items two independent no-preference models both fail, when
    every item has a chance level c_i; NaN otherwise."""
    chance = chance_failure(fm.item_kind, fm.n_options)
    return float(np.mean(chance**2)) if fm.n_items and np.isfinite(chance).all() else np.nan
