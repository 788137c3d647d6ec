"""Pairwise agreement of failures: error consistency, shared and conditional failure,
and the same-wrong-answer rate of choice probes. Vectorised over all pairs of models.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from auditkit.analyze.bootstrap import (
    Bootstrapped,
    PairCounts,
    bootstrap,
    pair_counts,
    pair_index,
    single_threaded_blas,
)
from auditkit.analyze.matrix import FailureMatrix
from auditkit.analyze.rates import shared_chance
from auditkit.analyze.stats import wilson_interval

__all__ = ["pair_index", "kappa_counts", "error_consistency", "agreement_table",
           "same_wrong_answer", "pairwise_agreement"]


def kappa_counts(n: np.ndarray, na: np.ndarray, nb: np.ndarray, nab: np.ndarray) -> np.ndarray:
    """Error consistency kappa (Geirhos et al. 2020) from counts, elementwise.

    c_obs = (n11 + n00) / N, c_exp = p_a p_b + (1 - p_a)(1 - p_b), kappa = (c_obs - c_exp) /
    (1 - c_exp), which for a 2x2 table is
        kappa = 2 (n11 n00 - n10 n01) / (n_a (N - n_b) + n_b (N - n_a)),
    with n11 = n_ab, n10 = n_a - n_ab, n01 = n_b - n_ab, n00 = N - n_a - n_b + n_ab. The
    denominator is N^2 (1 - c_exp), 0 only when both models never fail or both always fail;
    then c_obs = 1 and kappa = 1, as in the paper's reference code (bethgelab/model-vs-human,
    modelvshuman/plotting/analyses.py, ErrorConsistency.error_consistency: "if
    observed_consistency == 1.0: return 1.0"). Cells rather than n N_ab - n_a n_b: no
    cancellation, so identical models give exactly 1 in float32 too. Keeps the input dtype.
    """
    n10, n01 = na - nab, nb - nab
    n00 = (n - na) - nb + nab
    num = nab * n00
    num -= n10 * n01
    num *= 2
    den = na * (n - nb)
    den += nb * (n - na)
    out = np.ones(np.broadcast_shapes(num.shape, den.shape), dtype=num.dtype)
    kappa: np.ndarray = np.divide(num, den, out=out, where=den > 0)
    return kappa


def error_consistency(counts: PairCounts) -> np.ndarray:
    """Error consistency kappa (see :func:`kappa_counts`) for every pair a < b, shape (P,)."""
    iu, ju = pair_index(len(counts.fail))
    return kappa_counts(np.asarray(counts.n_items, float), counts.fail[iu], counts.fail[ju],
                        counts.both[iu, ju])


def agreement_table(fm: FailureMatrix, counts: PairCounts,
                    kappa: Bootstrapped | None = None) -> pd.DataFrame:
    """One row per pair a < b from the observed counts (and kappa's bootstrap interval).

    shared = n_ab / N; p_b_given_a = n_ab / n_a (Wilson intervals for both); shared_chance:
    the shared rate of two independent no-preference models (rates.shared_chance);
    kappa_lo/hi: percentile bootstrap interval over items (NaN without a bootstrap).
    """
    iu, ju = pair_index(fm.n_models)
    n, nab = float(counts.n_items), counts.both[iu, ju]
    na, nb = counts.fail[iu], counts.fail[ju]
    nan = np.full(len(iu), np.nan)
    lo, hi = (kappa.lo, kappa.hi) if kappa is not None else (nan, nan)
    models = np.asarray(fm.models, object)
    with np.errstate(divide="ignore", invalid="ignore"):
        table: dict[str, Any] = {
            "model_a": models[iu], "model_b": models[ju],
            "n_items": int(n), "rate_a": na / n, "rate_b": nb / n,
            "kappa": error_consistency(counts), "kappa_lo": lo, "kappa_hi": hi,
            "n_both": nab.astype(np.int64), "shared": nab / n,
        }
        _with_interval(table, "shared", nab, n)
        table["shared_chance"] = shared_chance(fm)
        table["p_b_given_a"] = nab / na
        _with_interval(table, "p_b_given_a", nab, na)
        table["p_a_given_b"] = nab / nb
        _with_interval(table, "p_a_given_b", nab, nb)
    table.update(same_wrong_answer(fm))
    frame: pd.DataFrame = pd.DataFrame(table)
    return frame


def _with_interval(table: dict[str, Any], name: str, k: np.ndarray, n: np.ndarray | float) -> None:
    table[f"{name}_lo"], table[f"{name}_hi"] = wilson_interval(k, n)


def same_wrong_answer(fm: FailureMatrix) -> dict[str, np.ndarray]:
    """Same-wrong-answer rate on the choice items both models get wrong (Kim et al. 2025).

    n_both_wrong_choice = #{i choice: F_a,i F_b,i}; same_wrong = #{both wrong, chosen_a =
    chosen_b} / n_both_wrong_choice (Wilson interval); ratio = same_wrong / chance.
    Two chance levels, both the rate if each model picked uniformly among an item's k_i - 1
    wrong options:
    - same_wrong_chance = mean over the items both got wrong of 1 / (k_i - 1): the chance
      level of the rate actually measured (it conditions on which items both got wrong);
    - same_wrong_chance_kim = sum_k s_k / (k - 1), s_k the share of the scope's choice items
      with k options: Kim et al.'s random baseline, averaged over all items (one value per
      scope). The two differ when option counts vary and the models err more on items with
      few or many options; same_wrong_chance is the one the ratio uses.
    Counts are exact integers (float32 sums below 2^24) and the rates float64. All NaN on
    pairs with no such item (and for matrices without choice items).
    """
    choice = (fm.item_kind == "choice") & (fm.n_options >= 2)          # (N,)
    F, chosen, k = fm.F[:, choice], fm.chosen[:, choice], fm.n_options[choice]
    iu, ju = pair_index(fm.n_models)
    same, both, chance_sum = np.zeros(len(iu)), np.zeros(len(iu)), np.zeros(len(iu))
    with single_threaded_blas():
        for option in range(int(k.max(initial=0))):
            same += _co_counts(F & (chosen == option), iu, ju)
        for kv in np.unique(k):
            n_k = _co_counts(F & (k == kv), iu, ju)                    # both wrong, k options
            both += n_k
            chance_sum += n_k / (kv - 1)
    kim = float(np.mean(1.0 / (k - 1))) if len(k) else np.nan
    with np.errstate(divide="ignore", invalid="ignore"):
        rate, chance = same / both, chance_sum / both
        lo, hi = wilson_interval(same, both)
        return {"n_both_wrong_choice": both.astype(np.int64), "same_wrong": rate,
                "same_wrong_lo": lo, "same_wrong_hi": hi, "same_wrong_chance": chance,
                "same_wrong_chance_kim": np.where(both > 0, kim, np.nan),
                "same_wrong_ratio": rate / chance}


def _co_counts(E: np.ndarray, iu: np.ndarray, ju: np.ndarray) -> np.ndarray:
    """(P,) #{i: E_a,i E_b,i} for the pairs (iu, ju) of a (M, n) 0/1 matrix, exact."""
    Ef = E.astype(np.float32 if E.shape[1] < 2**24 else np.float64)
    co: np.ndarray = (Ef @ Ef.T)[iu, ju].astype(np.float64)
    return co


def pairwise_agreement(fm: FailureMatrix, *, n_bootstrap: int = 1000,
                       seed: int | np.random.Generator = 0) -> pd.DataFrame:
    """The agreement table of ``fm`` with kappa's bootstrap interval (resampling items)."""
    counts = pair_counts(fm.F)
    boot = bootstrap(fm.F, pair_intervals={"kappa": kappa_counts}, n_bootstrap=n_bootstrap,
                     seed=seed, observed=counts)
    return agreement_table(fm, counts, boot["kappa"])
