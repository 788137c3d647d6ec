"""Bias direction: does a child keep its parent's biases item by item?

A fine-tune can change how often it prefers the stereotype yet keep the same preferences
(Ladhak et al. 2023). For pair probes the signed log-likelihood gap
score = ll(stereotype) - ll(anti-stereotype) is compared between parent and child.
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy.stats import rankdata

from auditkit.analyze.lineage import edges
from auditkit.analyze.matrix import FailureMatrix
from auditkit.analyze.stats import fisher_interval


def _pearson_pairs(X: np.ndarray, pi: np.ndarray, ci: np.ndarray, chunk: int = 64,
                   ) -> np.ndarray:
    """Pearson r of rows pi[e] and ci[e] of a (M, n) array for every e; NaN where a row is
    constant. Rows are centred once; the pairs are taken a chunk at a time, so no (E, n)
    copies are held (at 1,000 models x 33,000 pair items each would be 260 MB)."""
    Xc = X - X.mean(axis=1, keepdims=True)
    norm = np.sqrt(np.einsum("ij,ij->i", Xc, Xc))                        # (M,)
    dots = np.concatenate([np.einsum("ij,ij->i", Xc[pi[s:s + chunk]], Xc[ci[s:s + chunk]])
                           for s in range(0, len(pi), chunk)] or [np.empty(0)])
    with np.errstate(divide="ignore", invalid="ignore"):
        r = dots / (norm[pi] * norm[ci])
    clipped: np.ndarray = np.clip(r, -1.0, 1.0)
    return clipped


def average_ranks(X: np.ndarray) -> np.ndarray:
    """Ranks 1..n within each row of X, ties given their average rank (as
    ``scipy.stats.rankdata(X, axis=1)``), from one argsort: 10 times faster on rows
    without ties; rows with ties go through scipy."""
    order = np.argsort(X, axis=1)
    ranks = np.empty(X.shape)
    np.put_along_axis(ranks, order, np.broadcast_to(np.arange(1.0, X.shape[1] + 1), X.shape),
                      axis=1)
    srt = np.take_along_axis(X, order, axis=1)
    tied = np.flatnonzero((srt[:, 1:] == srt[:, :-1]).any(axis=1))
    if len(tied):
        ranks[tied] = rankdata(X[tied], axis=1)
    return ranks


def direction_table(fm: FailureMatrix, parents: Mapping[str, str | None]) -> pd.DataFrame:
    """Per lineage edge, the correlation of the parent's and child's signed gaps on pair items.

    r: Pearson with the Fisher z interval; rho: Spearman (Pearson of ranks); n_pairs: the
    pair items where every model has a finite score. Empty when ``fm`` has no pair items.
    """
    cols = ["parent", "child", "n_pairs", "r", "r_lo", "r_hi", "rho"]
    pair = (fm.item_kind == "pair") & np.isfinite(fm.score).all(axis=0)   # (N,)
    links = edges(fm.models, parents)
    if not pair.any() or not links:
        empty: pd.DataFrame = pd.DataFrame(columns=cols)
        return empty
    S = fm.score[:, pair]                                                  # (M, n)
    pos = {m: j for j, m in enumerate(fm.models)}
    pi = np.array([pos[p] for p, _ in links], dtype=np.int64)
    ci = np.array([pos[c] for _, c in links], dtype=np.int64)
    r = _pearson_pairs(S, pi, ci)
    rho = _pearson_pairs(average_ranks(S), pi, ci)
    n = int(pair.sum())
    lo, hi = fisher_interval(r, np.full(len(r), n))
    table: pd.DataFrame = pd.DataFrame({
        "parent": [p for p, _ in links], "child": [c for _, c in links],
        "n_pairs": n, "r": r, "r_lo": lo, "r_hi": hi, "rho": rho})[cols]
    return table
