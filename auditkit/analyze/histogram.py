"""The outcome histogram (Toups et al. 2023): how many items exactly k of M models fail,
against independence, with an exact permutation test.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from auditkit.analyze.matrix import FailureMatrix
from auditkit.analyze.stats import _seeded, percentile_interval, permutation_pvalue


@dataclass(frozen=True)
class OutcomeHistogram:
    """Observed and expected item counts per k, and the permutation test of independence."""

    table: pd.DataFrame         # k, observed, expected, null_mean, null_lo, null_hi
    statistic: float            # sum_i k_i^2, k_i = number of models failing item i
    variance_ratio: float       # var_i(k_i) / sum_m p_m (1 - p_m); 1 under independence
    p_value: float              # one-sided: more concentrated than independence
    n_permutations: int


def poisson_binomial_pmf(p: np.ndarray) -> np.ndarray:
    """P[K = k], k = 0..M, for K a sum of independent Bernoulli(p_m) (dynamic programming).

    pmf_0 = [1]; adding model m: pmf'(k) = pmf(k) (1 - p_m) + pmf(k - 1) p_m.
    """
    pmf = np.zeros(len(p) + 1)
    pmf[0] = 1.0
    for m, pm in enumerate(np.asarray(p, dtype=float)):
        pmf[1:m + 2] = pmf[1:m + 2] * (1 - pm) + pmf[:m + 1] * pm
        pmf[0] *= 1 - pm
    return pmf


def null_histograms(n_fail: np.ndarray, n_items: int, *, n_permutations: int,
                    seed: int | np.random.Generator = 0) -> np.ndarray:
    """(B, M + 1) outcome histograms with each model's failures shuffled across items.

    Exactly the permutation null (every row permuted independently, row sums kept), drawn
    without building the permuted matrices: items are exchangeable, so only the histogram
    matters, and adding a model whose n_m failures fall on a uniformly random set of items
    moves x_j items from class j to j + 1, with (x_0, x_1, ...) multivariate hypergeometric
    given the class sizes; it is drawn as a chain of univariate hypergeometrics (:func:`_moved`),
    vectorised over the B permutations. Cost O(M J B) for J occupied classes (about 6
    standard deviations of the number of models failing an item), independent of the number
    of items.
    """
    rng = _seeded(seed)
    B, M = n_permutations, len(n_fail)
    hist = np.zeros((B, M + 1), np.int64)
    hist[:, 0] = n_items
    lo = hi = 0                                      # classes lo..hi may be non-empty
    for n_m in np.asarray(n_fail, dtype=np.int64):
        moved = _moved(hist[:, lo:hi + 1], n_items, int(n_m), rng)    # (B, hi - lo + 1)
        hist[:, lo:hi + 1] -= moved
        hist[:, lo + 1:hi + 2] += moved
        hi += 1
        while lo < hi and not hist[:, lo].any():
            lo += 1
    return hist


def _moved(window: np.ndarray, n_items: int, n_draws: int, rng: np.random.Generator,
           ) -> np.ndarray:
    """How many of ``n_draws`` items drawn without replacement fall in each class (column):
    a chain of univariate hypergeometrics over the classes some permutation has items in.

    The draws themselves are the cost (about 200 ns each in numpy): drawing each half of the
    classes at once, recursively, needs fewer calls but more draws and was slower.
    """
    B, J = window.shape
    moved = np.zeros((B, J), np.int64)
    items_left = np.full(B, n_items, np.int64)
    draws_left = np.full(B, n_draws, np.int64)
    for j in np.flatnonzero(window.any(axis=0)):
        good = window[:, j]
        items_left = items_left - good                       # items in later classes
        moved[:, j] = rng.hypergeometric(good, items_left, draws_left)
        draws_left = draws_left - moved[:, j]
    return moved


def outcome_histogram(fm: FailureMatrix, *, n_permutations: int = 1000,
                      seed: int | np.random.Generator = 0) -> OutcomeHistogram:
    """Items failed by exactly k of the M models, k = 0..M, against independence.

    expected = N * PoissonBinomial(p_1..p_M) (Toups et al. 2023); the permutation test
    shuffles each model's failures across items and uses T = sum_i k_i^2 (which, with
    sum_i k_i fixed, orders the histograms by their variance): p = (1 + #{T* >= T}) / (1 + B).
    null_lo/hi: the 2.5% and 97.5% points of each count under the permutations.
    """
    M, N = fm.n_models, fm.n_items
    k = fm.F.sum(axis=0)                                             # (N,) models failing item
    observed = np.bincount(k, minlength=M + 1)
    p = fm.F.mean(axis=1) if N else np.zeros(M)
    null = null_histograms(fm.F.sum(axis=1), N, n_permutations=n_permutations, seed=seed)
    js = np.arange(M + 1)
    T = float(observed @ js**2)
    lo, hi = (percentile_interval(null) if n_permutations else (np.full(M + 1, np.nan),) * 2)
    table = pd.DataFrame({"k": js, "observed": observed, "expected": N * poisson_binomial_pmf(p),
                          "null_mean": null.mean(axis=0) if n_permutations else np.nan,
                          "null_lo": lo, "null_hi": hi})
    var_ind = float(np.sum(p * (1 - p)))
    testable = var_ind > 0 and M >= 2            # one model, or no variation: nothing to test
    ratio = float(k.var() / var_ind) if testable else float("nan")
    pval = permutation_pvalue(T, null @ js**2) if n_permutations and testable else float("nan")
    return OutcomeHistogram(table, T, ratio, pval, n_permutations)
