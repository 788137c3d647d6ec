"""Hand-computed cases for the statistical helpers (auditkit/analyze/stats.py)."""
import math

import numpy as np
import pytest
from scipy.stats import binom, binomtest

from auditkit.analyze.stats import (
    fisher_interval,
    holm,
    katz_relative_risk,
    mcnemar_exact,
    midp_interval,
    percentile_interval,
    permutation_pvalue,
    wilson_interval,
)

Z2 = 1.959963984540054 ** 2   # 3.841459


def test_wilson_zero_of_ten():
    # p = 0, n = 10: centre = (z^2/20) / (1 + z^2/10) = 0.192073 / 1.384146 = 0.138767,
    # half = z sqrt(z^2/400) / 1.384146 = (z^2/20) / 1.384146 = 0.138766  ->  [0, 0.277533]
    lo, hi = wilson_interval(0, 10)
    assert lo == 0.0
    assert hi == pytest.approx(0.277533, abs=1e-6)


def test_wilson_half():
    # p = 0.5, n = 10: centre = (0.5 + 0.192073) / 1.384146 = 0.5,
    # half = 1.959964 sqrt(0.025 + 0.0096037) / 1.384146 = 0.364594 / 1.384146 = 0.263407
    #  ->  [0.236593, 0.763407]
    lo, hi = wilson_interval(5, 10)
    assert (lo, hi) == (pytest.approx(0.236593, abs=1e-6), pytest.approx(0.763407, abs=1e-6))


def test_wilson_always_and_empty():
    lo, hi = wilson_interval(np.array([10, 0]), np.array([10, 0]))
    assert hi[0] == pytest.approx(1.0) and lo[0] == pytest.approx(1 - 0.277533, abs=1e-6)
    assert math.isnan(lo[1]) and math.isnan(hi[1])


def test_mcnemar_exact_hand():
    # b = 1, c = 9: P[X <= 1 | n = 10] = (1 + 10) / 1024; two-sided 22 / 1024
    assert mcnemar_exact(1, 9) == pytest.approx(22 / 1024)
    # b = c: 2 P[X <= 3 | n = 6] = 2 * 42/64 > 1 -> 1
    assert mcnemar_exact(3, 3) == 1.0
    # no discordant pairs: no evidence of a change
    assert mcnemar_exact(0, 0) == 1.0


def test_mcnemar_matches_binomtest():
    for b in range(0, 12):
        for c in range(0, 12):
            if b + c:
                assert mcnemar_exact(b, c) == pytest.approx(binomtest(b, b + c).pvalue, rel=1e-9)


def test_holm_hand():
    # sorted 0.01, 0.03, 0.04 -> 3*0.01 = 0.03, 2*0.03 = 0.06, max(0.06, 1*0.04) = 0.06
    assert holm(np.array([0.01, 0.04, 0.03])) == pytest.approx([0.03, 0.06, 0.06])
    # capped at 1; NaN left out of m and kept NaN: m = 2 -> 2*0.2 = 0.4, max(0.4, 0.9)
    out = holm(np.array([0.9, np.nan, 0.2]))
    assert out[0] == pytest.approx(0.9) and math.isnan(out[1]) and out[2] == pytest.approx(0.4)
    assert holm(np.array([0.6, 0.7])) == pytest.approx([1.0, 1.0])
    assert len(holm(np.array([]))) == 0


def test_katz_hand():
    # a = 10 of 20, c = 5 of 20: RR = 0.5 / 0.25 = 2,
    # se = sqrt(1/10 - 1/20 + 1/5 - 1/20) = sqrt(0.2) = 0.447214,
    # CI = 2 exp(-+1.959964 * 0.447214) = 2 exp(-+0.876523) = 2 * [0.416228, 2.402530]
    #    = [0.832456, 4.805061]
    rr, lo, hi = katz_relative_risk(10, 20, 5, 20)
    assert rr == pytest.approx(2.0)
    assert lo == pytest.approx(0.832456, rel=1e-5) and hi == pytest.approx(4.805061, rel=1e-5)


def test_katz_corrects_only_undefined_cells():
    # (38, 0, 82, 0): inherited 38/38 = 1, introduced 82/82 = 1 -> RR exactly 1 (the old
    # correction of every cell gave (38.5/39) / (82.5/83) = 0.993); the interval uses the
    # corrected table, se = sqrt(1/38.5 - 1/39 + 1/82.5 - 1/83) = 0.020150,
    # centre 0.993162: 0.993162 exp(-+0.039493) = [0.954704, 1.033170]
    rr, lo, hi = katz_relative_risk(38, 38, 82, 82)
    assert rr == 1.0
    assert lo == pytest.approx(0.954704, rel=1e-5) and hi == pytest.approx(1.033170, rel=1e-5)
    # a = 0 of 10, c = 5 of 10: RR = 0 exactly, lo = 0; hi from a = 0.5 of 11, c = 5.5 of 11:
    # 1/11 exp(1.959964 sqrt(2 - 1/11 + 1/5.5 - 1/11)) = 1/11 exp(2.771808) = 1.453410
    rr, lo, hi = katz_relative_risk(0, 10, 5, 10)
    assert rr == 0.0 and lo == 0.0 and hi == pytest.approx(1 / 11 * math.exp(2.771808), rel=1e-5)


def test_katz_undefined_ratio_is_nan_not_a_growing_number():
    # introduced = 0 (an identical parent and child): RR = inherited / 0 is unbounded;
    # the estimate is NaN whatever the item count, the lower bound finite, the upper NaN
    for n00 in (10, 1000, 100000):
        rr, lo, hi = katz_relative_risk(5, 5, 0, n00)
        assert math.isnan(rr) and math.isnan(hi) and 1 < lo < np.inf
    # 5 of 10 against 0 of 10: corrected 5.5/11 over 0.5/11 = 11,
    # se = sqrt(1/5.5 - 1/11 + 2 - 1/11) = 1.414214 -> lo = 11 exp(-2.771808) = 0.688037
    _, lo, _ = katz_relative_risk(5, 10, 0, 10)
    assert lo == pytest.approx(0.688037, rel=1e-5)
    assert all(math.isnan(x) for x in katz_relative_risk(0, 10, 0, 10))     # 0 / 0
    assert all(math.isnan(x) for x in katz_relative_risk(0, 0, 3, 10))      # no parent failure


def test_midp_interval_hand():
    # k = 0 of 10: hi solves (1 - p)^10 / 2 = 0.025 -> p = 1 - 0.05^(1/10) = 0.258866
    lo, hi = midp_interval(0, 10)
    assert lo == 0.0 and hi == pytest.approx(1 - 0.05 ** 0.1, rel=1e-9)
    # k = n: the mirror image
    lo, hi = midp_interval(10, 10)
    assert hi == 1.0 and lo == pytest.approx(0.05 ** 0.1, rel=1e-9)
    # k = 1 of 1: lo solves p / 2 = 0.025
    assert midp_interval(1, 1)[0] == pytest.approx(0.05, rel=1e-9)
    # the defining equations hold at both bounds
    lo, hi = midp_interval(3, 40)
    assert binom.sf(3, 40, lo) + binom.pmf(3, 40, lo) / 2 == pytest.approx(0.025, abs=1e-12)
    assert binom.cdf(2, 40, hi) + binom.pmf(3, 40, hi) / 2 == pytest.approx(0.025, abs=1e-12)
    assert all(math.isnan(x) for x in midp_interval(0, 0))


def test_fisher_interval_hand():
    # r = 0.5, n = 28: atanh 0.5 = 0.549306, half = 1.959964 / 5 = 0.391993
    # -> tanh(0.157313) = 0.156028, tanh(0.941299) = 0.735818
    lo, hi = fisher_interval(0.5, 28)
    assert lo == pytest.approx(0.156028, abs=1e-5) and hi == pytest.approx(0.735818, abs=1e-5)
    lo, hi = fisher_interval(0.5, 3)
    assert math.isnan(lo) and math.isnan(hi)


def test_percentile_interval_matches_numpy_and_ignores_nan():
    s = np.arange(101, dtype=float)[:, None]             # 0..100: 2.5% = 2.5, 97.5% = 97.5
    lo, hi = percentile_interval(s)
    assert (lo[0], hi[0]) == (pytest.approx(2.5), pytest.approx(97.5))
    rng = np.random.default_rng(0)
    x = rng.normal(size=(500, 7))
    lo, hi = percentile_interval(x)
    assert lo == pytest.approx(np.quantile(x, 0.025, axis=0))
    assert hi == pytest.approx(np.quantile(x, 0.975, axis=0))
    x[:100, 0] = np.nan                                  # NaN replicates are left out
    lo, _ = percentile_interval(x)
    assert lo[0] == pytest.approx(np.quantile(x[100:, 0], 0.025))
    x[:, 1] = np.nan
    assert math.isnan(percentile_interval(x)[0][1])
    assert math.isnan(percentile_interval(np.empty((0, 2)))[0][0])


def test_permutation_pvalue_hand():
    # null 1, 5, 6, 2 against 5: two at least as large -> (1 + 2) / (1 + 4)
    assert permutation_pvalue(5.0, np.array([1.0, 5.0, 6.0, 2.0])) == pytest.approx(0.6)
    assert math.isnan(permutation_pvalue(float("nan"), np.array([1.0])))
