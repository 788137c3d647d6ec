"""From the result store to failure matrices: one per probe, per category, and pooled.

F[m, i] = 1 when model m fails item i (DESIGN.md, Analysis). Items that not every model has a
result for are left out (and counted), so every statistic sees the same items for all models.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd


def _frozen(a: np.ndarray) -> np.ndarray:
    a = np.ascontiguousarray(a)
    a.setflags(write=False)
    return a


@dataclass(frozen=True, eq=False)
class FailureMatrix:
    """Who fails what: models x items, plus what choice and pair items need.

    ``chosen`` is the chosen option (choice items; -1 elsewhere), ``n_options`` the item's
    number of options, ``score`` the signed log-likelihood gap (pair items; NaN elsewhere).
    Pooled and category matrices name items ``probe/item``. ``item_probe`` and
    ``item_category`` let :meth:`scope` cut a probe's or a category's matrix out of the pooled
    one; ``dropped`` holds the (probe, category) of each item left out.
    """

    models: tuple[str, ...]
    items: tuple[str, ...]
    F: np.ndarray                   # (n_models, n_items) bool
    item_kind: np.ndarray           # (n_items,) str: "pair", "choice" or "generation"
    chosen: np.ndarray              # (n_models, n_items) int16 (or wider), -1: not a choice item
    n_options: np.ndarray           # (n_items,) int64
    score: np.ndarray               # (n_models, n_items) float64, NaN where not a pair item
    probe: str | None = None
    category: str | None = None
    n_dropped: int = 0              # items without a result for every model
    item_probe: np.ndarray | None = None      # (n_items,) str
    item_category: np.ndarray | None = None   # (n_items,) str
    dropped: tuple[tuple[str, str], ...] = ()  # (probe, category) of each dropped item

    @property
    def n_models(self) -> int:
        return len(self.models)

    @property
    def n_items(self) -> int:
        return len(self.items)

    def index(self, model: str) -> int:
        return self.models.index(model)

    def subset(self, models: Sequence[str]) -> FailureMatrix:
        """The same items for a subset of the models (in the order given)."""
        rows = np.array([self.index(m) for m in models], dtype=np.int64)
        return replace(self, models=tuple(models), F=_frozen(self.F[rows]),
                       chosen=_frozen(self.chosen[rows]), score=_frozen(self.score[rows]))

    def scope_mask(self, probe: str | None = None, category: str | None = None) -> np.ndarray:
        """(n_items,) bool: the items of ``probe`` and/or ``category``."""
        if self.item_probe is None or self.item_category is None:
            raise ValueError("a scope needs a pooled matrix from failure_matrix()")
        keep = np.ones(self.n_items, bool)
        if probe is not None:
            keep &= self.item_probe == probe
        if category is not None:
            keep &= self.item_category == category
        return keep

    def scope(self, probe: str | None = None, category: str | None = None) -> FailureMatrix:
        """The matrix of one probe or one category, cut out of a pooled matrix.

        The same as ``failure_matrix(results, probe=..., category=...)`` (probe items named
        without their ``probe/`` prefix), without going back to the results table.
        """
        if probe is None and category is None:
            return self
        keep = self.scope_mask(probe, category)
        assert self.item_probe is not None and self.item_category is not None
        names = np.asarray(self.items, object)[keep]
        if probe is not None:
            names = [name[len(probe) + 1:] for name in names]
        dropped = sum((probe is None or p == probe) and (category is None or c == category)
                      for p, c in self.dropped)
        return replace(self, items=tuple(names), F=_frozen(self.F[:, keep]),
                       item_kind=_frozen(self.item_kind[keep]),
                       chosen=_frozen(self.chosen[:, keep]),
                       n_options=_frozen(self.n_options[keep]),
                       score=_frozen(self.score[:, keep]), probe=probe, category=category,
                       n_dropped=int(dropped), item_probe=_frozen(self.item_probe[keep]),
                       item_category=_frozen(self.item_category[keep]), dropped=())


def matrix_from_array(F: np.ndarray, *, models: Sequence[str] | None = None,
                      items: Sequence[str] | None = None, kind: str = "generation",
                      chosen: np.ndarray | None = None, n_options: np.ndarray | int | None = None,
                      score: np.ndarray | None = None) -> FailureMatrix:
    """Wrap a bare (n_models, n_items) 0/1 array (simulations, tests) as a FailureMatrix."""
    F = np.asarray(F).astype(bool)
    if F.ndim != 2:
        raise ValueError(f"F must be 2-D (n_models, n_items), got shape {F.shape}")
    m, n = F.shape
    models = tuple(models) if models is not None else tuple(f"m{j}" for j in range(m))
    items = tuple(items) if items is not None else tuple(f"i{j}" for j in range(n))
    default_k = {"pair": 2, "choice": 2}.get(kind, 0)
    k = np.broadcast_to(np.asarray(default_k if n_options is None else n_options), (n,))
    ch = np.full((m, n), -1, np.int64) if chosen is None else np.asarray(chosen, np.int64)
    sc = np.full((m, n), np.nan) if score is None else np.asarray(score, float)
    return FailureMatrix(models, items, _frozen(F), _frozen(np.full(n, kind, dtype=object)),
                         _frozen(ch), _frozen(k.astype(np.int64)), _frozen(sc))


def failure_matrix(results: pd.DataFrame, *, models: Sequence[str] | None = None,
                   probe: str | None = None, category: str | None = None) -> FailureMatrix:
    """The failure matrix of ``results`` (docs/run-format.md), restricted to a probe or category.

    ``models`` fixes the rows and their order (the manifest's topological order); by default
    the models in order of first appearance. Items missing for any model are dropped.
    """
    rows = results
    if probe is not None:
        rows = rows[rows["probe"] == probe]
    if category is not None:
        rows = rows[rows["category"] == category]
    if models is None:
        models = list(pd.unique(rows["model"]))
    rows = rows[rows["model"].isin(list(models))]
    m_code = pd.Categorical(rows["model"], categories=list(models)).codes.astype(np.int64)
    p_code, p_uniq = pd.factorize(rows["probe"])
    i_code, i_uniq = pd.factorize(rows["item"])
    key_code, key_uniq = pd.factorize(p_code.astype(np.int64) * (len(i_uniq) + 1) + i_code)
    M, N = len(models), len(key_uniq)
    present = np.zeros((M, N), bool)                    # (n_models, n_items)
    present[m_code, key_code] = True
    keep = present.all(axis=0) if M else np.ones(N, bool)
    F = _scatter(M, N, m_code, key_code, rows["failed"].to_numpy(bool), False)
    chosen = _scatter(M, N, m_code, key_code, _narrow(rows["chosen"].to_numpy(np.int64)), -1)
    score = _scatter(M, N, m_code, key_code, rows["score"].to_numpy(float), np.nan)
    first = np.unique(key_code, return_index=True)[1]   # a row per item, in key order
    kind = rows["kind"].to_numpy(object)[first]
    n_opt = rows["n_options"].to_numpy(np.int64)[first]
    cats = np.asarray(rows["category"].to_numpy(object)[first], object)
    pcol, icol = p_uniq[key_uniq // (len(i_uniq) + 1)], i_uniq[key_uniq % (len(i_uniq) + 1)]
    pcol = np.asarray(pcol, object)
    names = icol if probe is not None else [f"{p}/{i}" for p, i in zip(pcol, icol)]
    dropped = tuple(zip(pcol[~keep].tolist(), cats[~keep].tolist()))
    return FailureMatrix(tuple(models), tuple(np.asarray(names, object)[keep]), _frozen(F[:, keep]),
                         _frozen(kind[keep]), _frozen(chosen[:, keep]), _frozen(n_opt[keep]),
                         _frozen(score[:, keep]), probe, category, int(N - keep.sum()),
                         _frozen(pcol[keep]), _frozen(cats[keep]), dropped)


def _scatter(m: int, n: int, rows: np.ndarray, cols: np.ndarray, values: np.ndarray,
             fill: object) -> np.ndarray:
    out = np.full((m, n), fill, dtype=values.dtype)
    out[rows, cols] = values
    return out


def _narrow(chosen: np.ndarray) -> np.ndarray:
    """Option indices as int16 when they fit (a quarter of int64's memory: 200 MB rather
    than 800 MB at 1,000 models x 100,000 items)."""
    fits = len(chosen) == 0 or (chosen.min() >= -1 and chosen.max() < 2**15)
    return chosen.astype(np.int16) if fits else chosen
