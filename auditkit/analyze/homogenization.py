"""Homogenization: the ratio H of systemic failure to what independence predicts, and the
effective number of independent models.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from auditkit.analyze.bootstrap import Bootstrapped, Margins, PairCounts, bootstrap, pair_counts
from auditkit.analyze.matrix import FailureMatrix
from auditkit.analyze.stats import Z95, midp_interval

LN10 = float(np.log(10.0))


@dataclass(frozen=True)
class Homogenization:
    """H with its 95% interval; H is NaN (never inf) with ``reason`` when undefined."""

    n_models: int
    H: float
    H_lo: float
    H_hi: float
    log10_H: float
    all_fail_rate: float        # mean_i prod_m F[m, i]
    log10_expected: float       # log10 prod_m p_m, the all-fail rate of independent models
    reason: str = ""            # why H is undefined, else ""
    n_all_fail: int = 0         # items every model fails


def all_fail_indicator(F: np.ndarray, rows: Sequence[int]) -> np.ndarray:
    """(N,) 1 where every model in ``rows`` fails the item."""
    return np.asarray(np.asarray(F)[np.asarray(rows, dtype=np.int64)].all(axis=0))


def homogenization_from_counts(models: Sequence[str], rows: Sequence[int], counts: PairCounts,
                               n_all: int, *, z: float = Z95) -> Homogenization:
    """H of the models ``rows`` from the observed counts and their all-fail count ``n_all``.

    H = a / prod_m p_m, a = n_all / N (Bommasani et al. 2022, individual level: observed
    systemic failure over the rate independent models with the same failure rates give).
    The interval (see :func:`log_h_interval`) is computed, not bootstrapped: a bootstrap of
    a handful of all-fail items is discrete, and [0, 0] whenever no item fails everywhere.
    """
    rows = list(rows)
    n = float(counts.n_items)
    fail = counts.fail[rows]
    nan = float("nan")
    a = n_all / n if n else nan
    with np.errstate(divide="ignore"):
        log_p = np.log(fail / n) if n else np.full(len(rows), nan)
    S = float(log_p.sum()) if rows else nan
    reason = _undefined_reason(models, rows, fail, n)
    if reason:
        return Homogenization(len(rows), nan, nan, nan, nan, a, S / LN10, reason, n_all)
    lo, hi = log_h_interval(counts, rows, n_all, z=z)
    log_h = np.log(a) - S if n_all else -np.inf
    with np.errstate(over="ignore"):
        H, H_lo, H_hi = (float(np.exp(x)) for x in (log_h, lo, hi))
    if not np.isfinite(H):
        return Homogenization(len(rows), nan, nan, nan, log_h / LN10, a, S / LN10,
                              "H exceeds the float range; see log10_H", n_all)
    return Homogenization(len(rows), H, H_lo, H_hi if np.isfinite(H_hi) else nan,
                          log_h / LN10 if n_all else nan, a, S / LN10, "", n_all)


def log_h_interval(counts: PairCounts, rows: Sequence[int], n_all: int, *,
                   z: float = Z95) -> tuple[float, float]:
    """95% interval for log H = log a - S, S = sum_m log p_m (MOVER: Zou & Donner 2008).

    The numerator is a count: its interval is the mid-p exact binomial interval [a_lo, a_hi]
    of n_all of N (good coverage from 0 all-fail items on). S is a smooth sum of well
    estimated logs, normal by the delta method with
        N Var(S) = K = sum_{m,m'} p_mm' / (p_m p_m') - M^2   (p_mm' = n_mm' / N, p_mm = p_m),
    and N Cov(log a, S) = sum_m (1 - p_m) / p_m (an all-fail item is failed by each model).
    MOVER combines the two with their correlation r (Zou 2008):
        lo = (log a - S) - sqrt(d1^2 + e2^2 - 2 r d1 e2),  d1 = log a - log a_lo,
        hi = (log a - S) + sqrt(u1^2 + e2^2 - 2 r u1 e2),  u1 = log a_hi - log a,
    e2 = z sqrt(Var S). With no all-fail item (a = 0) the interval is [log 0, log a_hi - S +
    e2]: H_lo = 0, and the upper bound takes both ends at their 95% limits (conservative).
    Measured coverage: benchmarks/README.md and tests/test_analyze_coverage.py.
    """
    idx = np.asarray(rows, dtype=np.int64)
    n = float(counts.n_items)
    fail = counts.fail[idx]
    p = fail / n
    K = float((n * counts.both[np.ix_(idx, idx)] / np.outer(fail, fail)).sum()) - len(idx) ** 2
    e2 = z * np.sqrt(max(K, 0.0) / n)
    S = float(np.log(p).sum())
    a_lo, a_hi = (float(x) for x in midp_interval(n_all, n))
    if n_all == 0:
        return -np.inf, np.log(a_hi) - S + e2
    a = n_all / n
    d1, u1 = np.log(a) - np.log(a_lo), np.log(a_hi) - np.log(a)
    var_log_a, cov = (1 - a) / (n * a), float(((1 - p) / p).sum()) / n
    r = cov / np.sqrt(var_log_a * K / n) if var_log_a > 0 and K > 0 else 0.0
    r = float(np.clip(r, -1.0, 1.0))
    log_h = np.log(a) - S
    lo = log_h - np.sqrt(max(d1 * d1 + e2 * e2 - 2 * r * d1 * e2, 0.0))
    hi = log_h + np.sqrt(max(u1 * u1 + e2 * e2 - 2 * r * u1 * e2, 0.0))
    return float(lo), float(hi)


def _undefined_reason(models: Sequence[str], rows: list[int], fail: np.ndarray, n: float) -> str:
    if len(rows) < 2:
        return f"needs at least 2 models, got {len(rows)}"
    if n == 0:
        return "no items"
    never = [models[r] for r, f in zip(rows, fail) if f == 0]
    if never:
        return "undefined: " + ", ".join(never[:3]) + (" ..." if len(never) > 3 else "") + \
            " never fail" + ("s" if len(never) == 1 else "")
    return ""


def homogenization(fm: FailureMatrix, *, models: Sequence[str] | None = None,
                   counts: PairCounts | None = None) -> Homogenization:
    """H for ``models`` (default: all) with its 95% interval (no resampling)."""
    rows = [fm.index(m) for m in (models if models is not None else fm.models)]
    counts = counts if counts is not None else pair_counts(fm.F)
    n_all = int(all_fail_indicator(fm.F, rows).sum()) if rows else 0
    return homogenization_from_counts(fm.models, rows, counts, n_all)


# ---------------------------------------------------------------- effective number of models

@dataclass(frozen=True)
class EffectiveNumber:
    """Participation ratio of the failure-correlation eigenvalues, with a bootstrap interval."""

    value: float
    lo: float
    hi: float
    n_models_used: int          # models whose failures vary (never/always failing: left out)
    n_models: int


def phi_moments(n: np.ndarray, na: np.ndarray, nb: np.ndarray, nab: np.ndarray) -> np.ndarray:
    """(2, ...) phi_ab^2 and phi_ab^4 from counts, elementwise; 0 where a model never or
    always fails.

    phi_ab = (n11 n00 - n10 n01) / sqrt(n_a (N - n_a) n_b (N - n_b)) (the Pearson
    correlation of two 0/1 rows); n11 n00 - n10 n01 = N n_ab - n_a n_b, written with cells
    to avoid cancellation.
    """
    n00 = (n - na) - nb + nab
    num = nab * n00
    num -= (na - nab) * (nb - nab)
    num *= num
    den = na * (n - na) * (nb * (n - nb))
    phi2 = np.zeros(np.broadcast_shapes(num.shape, den.shape), dtype=num.dtype)
    np.divide(num, den, out=phi2, where=den > 0)
    return np.stack([phi2, phi2 * phi2])


def participation_ratio(m: Margins) -> np.ndarray:
    """Participation ratio (sum lambda)^2 / sum lambda^2 of the phi-correlation matrix R,
    corrected for sampling noise.

    As tr R = M' and sum lambda^2 = tr R^2 = M' + 2 sum_{a<b} phi_ab^2,
    PR = M'^2 / (M' + 2 S), S = sum_{a<b} phi_ab^2, in [1, M'], M' the models that neither
    never nor always fail (``m.pair_sums["phi"]``: sums of phi^2 and phi^4 over their pairs).
    A sample phi^2 is high by its variance, about (1 - phi^2)^2 / N (1/N for independent
    models, where N phi^2 is chi-square with 1 degree of freedom; 0 for identical ones), so
    the plain PR is low (M / (1 + (M - 1) / N) for independent models: its interval covered
    the truth M in none of 20 replications at 5 models x 4,000 items). S is estimated by
    max(S_hat - V, 0), V = sum_{a<b} (1 - phi^2)^2 / N. A bootstrap replicate resamples the
    sample, adding that noise a second time, so replicates subtract 2 V and their percentile
    interval centres on the corrected estimate (Efron & Tibshirani 1993, ch. 10).
    """
    used = ((m.fail > 0) & (m.fail < m.n)).sum(axis=-1).astype(float)
    s2, s4 = m.pair_sums["phi"][0], m.pair_sums["phi"][1]
    with np.errstate(divide="ignore", invalid="ignore"):
        noise = (used * (used - 1) / 2 - 2 * s2 + s4) / np.asarray(m.n_items, float)
        S = np.maximum(s2 - (2.0 if m.resampled else 1.0) * noise, 0.0)
        return np.where(used > 0, used**2 / (used + 2 * S), np.nan)


def effective_number(fm: FailureMatrix, *, n_bootstrap: int = 1000,
                     seed: int | np.random.Generator = 0) -> EffectiveNumber:
    """The effective number of independent models in ``fm`` with a bootstrap interval."""
    boot = bootstrap(fm.F, {"eff": participation_ratio}, pair_sums={"phi": phi_moments},
                     n_bootstrap=max(n_bootstrap, 0), seed=seed)
    return effective_number_result(fm, boot["eff"])


def effective_number_result(fm: FailureMatrix, boot: Bootstrapped) -> EffectiveNumber:
    n_fail = fm.F.sum(axis=1)
    used = int(((n_fail > 0) & (n_fail < fm.n_items)).sum())
    return EffectiveNumber(float(boot.observed), float(boot.lo), float(boot.hi), used,
                           fm.n_models)
