"""Small, vectorised statistical helpers shared by the analysis modules.

Wilson intervals for rates, McNemar's exact test, Holm's correction, the Katz interval for a
relative risk, Fisher's interval for a correlation and NaN-aware percentile intervals for
bootstrap and permutation samples. Everything is pure and works element-wise on arrays.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy import optimize as _spo
from scipy import special as _spc
from scipy import stats as _sps

Z95 = 1.959963984540054  # the standard normal's 97.5% quantile


def _seeded(seed: int | np.random.Generator) -> np.random.Generator:
    """A numpy Generator from a seed (an existing Generator is used as is)."""
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def wilson_interval(k: np.ndarray | float, n: np.ndarray | float, *,
                    z: float = Z95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for a binomial proportion k / n (Wilson 1927).

    centre = (p + z^2 / 2n) / (1 + z^2 / n),
    half   = z / (1 + z^2 / n) * sqrt(p (1 - p) / n + z^2 / 4n^2),  p = k / n.
    Returns (lo, hi), NaN where n = 0.
    """
    k, n = np.asarray(k, dtype=float), np.asarray(n, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = k / n
        denom = 1.0 + z * z / n
        centre = (p + z * z / (2 * n)) / denom
        half = z / denom * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    lo, hi = np.clip(centre - half, 0.0, 1.0), np.clip(centre + half, 0.0, 1.0)
    return np.where(n > 0, lo, np.nan), np.where(n > 0, hi, np.nan)


def mcnemar_exact(b: np.ndarray | int, c: np.ndarray | int) -> np.ndarray:
    """Two-sided exact McNemar test on the discordant counts b and c (McNemar 1947).

    Under no change in failure rate, b ~ Binomial(b + c, 1/2); the two-sided p-value is
    min(1, 2 * P[X <= min(b, c)]), the same as ``scipy.stats.binomtest(b, b + c)``.
    p = 1 when there are no discordant pairs.
    """
    b, c = np.asarray(b, dtype=np.int64), np.asarray(c, dtype=np.int64)
    n = b + c
    p = np.minimum(1.0, 2.0 * _sps.binom.cdf(np.minimum(b, c), n, 0.5))
    return np.where(n > 0, p, 1.0)


def holm(pvalues: np.ndarray) -> np.ndarray:
    """Holm's step-down adjusted p-values (Holm 1979); NaNs are left out and kept NaN.

    With the m valid p-values sorted p_(1) <= ... <= p_(m):
    adj_(i) = max_{j <= i} min(1, (m - j + 1) p_(j)).
    """
    p = np.asarray(pvalues, dtype=float)
    out = np.full(p.shape, np.nan)
    valid = np.flatnonzero(~np.isnan(p))
    order = valid[np.argsort(p[valid], kind="stable")]
    m = len(order)
    scaled = (m - np.arange(m)) * p[order]
    out[order] = np.minimum(1.0, np.maximum.accumulate(scaled)) if m else scaled
    return out


def katz_relative_risk(a: np.ndarray, n1: np.ndarray, c: np.ndarray, n0: np.ndarray, *,
                       z: float = Z95) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Relative risk RR = (a / n1) / (c / n0) with the Katz log interval (Katz et al. 1978).

    se(log RR) = sqrt(1/a - 1/n1 + 1/c - 1/n0); CI = exp(log RR +- z se).
    The estimate is never corrected: (38, 0, 82, 0), i.e. a = n1 = 38, c = n0 = 82, gives
    exactly 1. It is NaN (undefined, never inf) where c = 0: infinite when a > 0, 0/0 when
    a = 0; a corrected finite value there would grow with n0 (an identical parent and child).
    The interval uses the Haldane-Anscombe table (0.5 added to each of a, n1 - a, c, n0 - c;
    Haldane 1956) whenever one of them is 0, where the Katz se is infinite or 0:
    - c = 0 < a: lo from the corrected table, hi NaN (unbounded above);
    - a = 0 < c: RR = 0 exactly, lo = 0, hi from the corrected table.
    NaN where n1 = 0 or n0 = 0. Returns (rr, lo, hi).
    """
    a, n1, c, n0 = (np.asarray(x, dtype=float) for x in (a, n1, c, n0))
    defined = (n1 > 0) & (n0 > 0)
    zero = (a == 0) | (a == n1) | (c == 0) | (c == n0)
    ac, cc = np.where(zero, a + 0.5, a), np.where(zero, c + 0.5, c)       # interval's cells
    n1c, n0c = np.where(zero, n1 + 1, n1), np.where(zero, n0 + 1, n0)
    with np.errstate(divide="ignore", invalid="ignore"):
        rr = (a * n0) / (n1 * c)
        log_rr = np.log(ac / n1c) - np.log(cc / n0c)
        se = np.sqrt(1 / ac - 1 / n1c + 1 / cc - 1 / n0c)
    lo, hi = np.exp(log_rr - z * se), np.exp(log_rr + z * se)
    finite = defined & (c > 0)                  # RR itself is defined (0 when a = 0)
    lo = np.where(defined & (a > 0), lo, np.where(finite, 0.0, np.nan))
    return np.where(finite, rr, np.nan), lo, np.where(finite, hi, np.nan)


def midp_interval(k: np.ndarray | float, n: np.ndarray | float, *, level: float = 0.95,
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Mid-p exact interval for a binomial proportion k / n (Lancaster 1961; Berry &
    Armitage 1995; Agresti & Gottard 2007).

    lo solves P[X > k] + P[X = k] / 2 = (1 - level) / 2 and hi solves
    P[X < k] + P[X = k] / 2 = (1 - level) / 2 for X ~ Binomial(n, p); lo = 0 when k = 0 and
    hi = 1 when k = n. Less conservative than Clopper-Pearson, with coverage close to the
    nominal level even for counts of 0 to 5, where Wald and Wilson fail. NaN where n = 0.
    """
    k, n = np.broadcast_arrays(np.asarray(k, dtype=float), np.asarray(n, dtype=float))
    tail = (1.0 - level) / 2
    lo, hi = np.full(k.shape, np.nan), np.full(k.shape, np.nan)
    for j in np.ndindex(k.shape):
        if n[j] > 0:
            lo[j], hi[j] = _midp_bounds(int(k[j]), int(n[j]), tail)
    return lo, hi


def _midp_bounds(k: int, n: int, tail: float) -> tuple[float, float]:
    # P[X > k] + P[X = k] / 2 = (P[X > k] + P[X > k - 1]) / 2, and the mirror image: sums of
    # tails (scipy.special's bdtr, bdtrc), accurate where the pmf itself would be tiny
    def upper_tail(p: float) -> float:          # increasing in p
        return float(0.5 * (_spc.bdtrc(k, n, p) + _spc.bdtrc(k - 1, n, p)) - tail)

    def lower_tail(p: float) -> float:          # decreasing in p
        below = _spc.bdtr(k - 1, n, p) if k > 0 else 0.0
        return float(0.5 * (below + _spc.bdtr(k, n, p)) - tail)
    lo = 0.0 if k == 0 else _brentq(upper_tail, 0.0, k / n)
    hi = 1.0 if k == n else _brentq(lower_tail, k / n, 1.0)
    return lo, hi


def _brentq(f: Callable[[float], float], a: float, b: float) -> float:
    return float(_spo.brentq(f, a, b, xtol=1e-15, rtol=4 * np.finfo(float).eps, maxiter=200))


def fisher_interval(r: np.ndarray, n: np.ndarray, *,
                    z: float = Z95) -> tuple[np.ndarray, np.ndarray]:
    """Fisher z interval for a Pearson correlation: tanh(atanh r +- z / sqrt(n - 3)).

    NaN where n <= 3 or r is NaN; r = +-1 gives a degenerate interval at r.
    """
    r, n = np.asarray(r, dtype=float), np.asarray(n, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        zr = np.arctanh(np.clip(r, -1.0, 1.0))
        half = z / np.sqrt(n - 3)
        lo, hi = np.tanh(zr - half), np.tanh(zr + half)
    ok = (n > 3) & ~np.isnan(r)
    return np.where(ok, lo, np.nan), np.where(ok, hi, np.nan)


def percentile_interval(samples: np.ndarray, *, level: float = 0.95,
                        ) -> tuple[np.ndarray, np.ndarray]:
    """Percentile interval over axis 0 of ``samples`` (B, ...), ignoring NaN replicates.

    Linear interpolation between order statistics, as ``numpy.quantile``; NaN where no
    replicate is finite. Vectorised (one sort), unlike ``numpy.nanquantile`` along an axis.
    """
    samples = np.asarray(samples)
    tail = (1.0 - level) / 2
    if samples.shape[0] == 0:
        nan = np.full(samples.shape[1:], np.nan)
        return nan, nan.copy()
    if not np.isnan(samples).any():                   # fast path: selection, no full sort
        lo, hi = np.quantile(samples, [tail, 1.0 - tail], axis=0)
        return lo.astype(float), hi.astype(float)
    s = np.sort(samples, axis=0)                      # NaNs sort last
    valid = np.sum(~np.isnan(s), axis=0)             # (...)
    out = []
    for q in (tail, 1.0 - tail):
        pos = q * np.maximum(valid - 1, 0)
        lo_i = np.floor(pos).astype(np.int64)
        hi_i = np.minimum(lo_i + 1, np.maximum(valid - 1, 0))
        lo_v = np.take_along_axis(s, lo_i[None, ...], axis=0)[0].astype(float)
        hi_v = np.take_along_axis(s, hi_i[None, ...], axis=0)[0].astype(float)
        val = lo_v + (pos - lo_i) * (hi_v - lo_v)
        out.append(np.where(valid > 0, val, np.nan))
    return out[0], out[1]


def permutation_pvalue(observed: float, null: np.ndarray) -> float:
    """One-sided permutation p-value (1 + #{null >= observed}) / (1 + B) (Phipson & Smyth 2010).

    NaN when the observed statistic is NaN.
    """
    if np.isnan(observed):
        return float("nan")
    null = np.asarray(null, dtype=float)
    tol = 1e-12 * max(1.0, abs(observed))  # ties within rounding count as "as extreme"
    return float((1 + np.sum(null >= observed - tol)) / (1 + len(null)))
