"""Homogenization ratio, effective number of models and the outcome histogram, by hand."""
import math

import numpy as np
import pytest
from scipy.stats import hypergeom

from auditkit.analyze.bootstrap import bootstrap, pair_counts
from auditkit.analyze.histogram import null_histograms, outcome_histogram, poisson_binomial_pmf
from auditkit.analyze.homogenization import (
    effective_number,
    homogenization,
    log_h_interval,
    participation_ratio,
    phi_moments,
)
from auditkit.analyze.matrix import matrix_from_array
from auditkit.analyze.stats import midp_interval


def H(F, **kw):
    return homogenization(matrix_from_array(F), **kw)


def test_h_hand_cases():
    # independent-looking: all-fail rate 1/4, p = 1/2, 1/2 -> H = 0.25 / 0.25 = 1
    assert H([[1, 1, 0, 0], [1, 0, 1, 0]]).H == pytest.approx(1.0)
    # identical: all-fail rate 1/2 -> H = 0.5 / 0.25 = 2
    assert H([[1, 1, 0, 0], [1, 1, 0, 0]]).H == pytest.approx(2.0)
    # three models: item 0 failed by all -> 1/5; p = 0.4, 0.6, 0.2 -> prod 0.048;
    # H = 0.2 / 0.048 = 4.166667
    h = H([[1, 1, 0, 0, 0], [1, 1, 1, 0, 0], [1, 0, 0, 0, 0]])
    assert h.H == pytest.approx(0.2 / 0.048) and h.all_fail_rate == pytest.approx(0.2)
    assert h.log10_expected == pytest.approx(math.log10(0.048))
    assert h.log10_H == pytest.approx(math.log10(0.2 / 0.048))


def test_h_edge_cases():
    never = H([[1, 0, 1], [0, 0, 0]])                 # a model that never fails
    assert math.isnan(never.H) and "m1 never fails" in never.reason
    always = H([[1, 1], [1, 1]])                      # always fail: 1 / (1 * 1) = 1
    assert always.H == pytest.approx(1.0) and always.reason == ""
    single = H([[1, 0, 1]])
    assert math.isnan(single.H) and "at least 2 models" in single.reason
    disjoint = H([[1, 0], [0, 1]])                    # nobody fails everything: H = 0
    assert disjoint.H == 0.0 and math.isnan(disjoint.log10_H) and disjoint.n_all_fail == 0
    one_item = H([[1], [1]])
    assert one_item.H == pytest.approx(1.0)


def test_h_never_overflows_to_inf():
    # 300 identical models failing 1 item in 100: H = 0.01 / 0.01^300 = 1e598 > float max
    F = np.zeros((300, 100), bool)
    F[:, 0] = True
    h = H(F)
    assert math.isnan(h.H) and "float range" in h.reason
    assert h.log10_H == pytest.approx(598.0)


def test_h_descendants_subset_and_interval():
    rng = np.random.default_rng(0)
    root = rng.random(3000) < 0.4
    kids = np.where(root, rng.random((3, 3000)) < 0.9, rng.random((3, 3000)) < 0.05)
    fm = matrix_from_array(np.vstack([root, kids]))
    whole = homogenization(fm)
    desc = homogenization(fm, models=["m1", "m2", "m3"])
    assert desc.n_models == 3 and whole.n_models == 4
    assert whole.H_lo < whole.H < whole.H_hi and whole.H_lo > 1
    assert desc.H_lo > 1


def test_h_interval_without_all_fail_items():
    # no item fails everywhere: H = 0, but the interval is not [0, 0]. a_hi is the mid-p
    # bound for 0 of 8 items, 1 - 0.05^(1/8); S = log(1/2) * 2 + ... and N Var(S) = K
    F = np.array([[1, 1, 0, 0, 1, 0, 1, 0], [0, 0, 1, 1, 0, 1, 0, 1]])
    h = H(F)
    assert h.H == 0.0 and h.H_lo == 0.0
    a_hi = 1 - 0.05 ** (1 / 8)
    # p = 1/2, 1/2, both = 0: K = 8 * (4/16 + 0 + 0 + 4/16) - 4 = 0 -> H_hi = a_hi / (1/4)
    assert h.H_hi == pytest.approx(4 * a_hi, rel=1e-12)


def test_h_interval_identical_models_is_the_rate_interval():
    # M identical rows with rate p: H = p^(1 - M), log H = (1 - M) log p; the correlation
    # of log a and S is 1, so MOVER gives back the interval of log p scaled by M - 1
    # (the numerator's mid-p interval and the denominator's delta-method margin combine
    # as |d1 - e2|)
    F = np.tile(np.arange(50) < 20, (3, 1))              # p = 0.4, a = 0.4
    h = H(F)
    assert h.H == pytest.approx(0.4 ** -2)
    lo, hi = midp_interval(20, 50)
    e2 = 1.959963984540054 * math.sqrt(9 * 0.6 / 0.4 / 50)    # z sqrt(M^2 (1-p)/p / N)
    d1, u1 = math.log(0.4 / lo), math.log(hi / 0.4)
    assert math.log(h.H_lo) == pytest.approx(math.log(6.25) - abs(d1 - e2), rel=1e-12)
    assert math.log(h.H_hi) == pytest.approx(math.log(6.25) + abs(u1 - e2), rel=1e-12)


def test_h_interval_log_scale_matches_delta_method_for_large_counts():
    # with many all-fail items the mid-p interval is nearly Wald on the log scale, and the
    # interval's half-width nearly z sqrt(Var log a + Var S - 2 Cov) (delta method)
    rng = np.random.default_rng(5)
    root = rng.random(200_000) < 0.5
    F = np.vstack([root, np.where(root, rng.random(200_000) < 0.8, rng.random(200_000) < 0.1)])
    c = pair_counts(F)
    n_all = int((F[0] & F[1]).sum())
    lo, hi = log_h_interval(c, [0, 1], n_all)
    N, p = 200_000, F.mean(axis=1)
    a = n_all / N
    K = (N * c.both / np.outer(c.fail, c.fail)).sum() - 4
    var = (1 - a) / (N * a) + K / N - 2 * ((1 - p) / p).sum() / N
    assert (hi - lo) / 2 == pytest.approx(1.959963984540054 * math.sqrt(var), rel=0.01)


def _eff(F) -> float:
    F = np.asarray(F)
    return float(bootstrap(F, {"e": participation_ratio}, pair_sums={"phi": phi_moments},
                           n_bootstrap=0, observed=pair_counts(F))["e"].observed)


def test_effective_number_hand():
    # identical models: R = [[1, 1], [1, 1]], eigenvalues 2, 0 -> 2^2 / 4 = 1; phi = 1 has
    # no sampling noise ((1 - phi^2)^2 / N = 0)
    assert _eff([[1, 0, 1, 0], [1, 0, 1, 0]]) == pytest.approx(1.0)
    # phi = (4*1 - 2*2) / sqrt(2*2*2*2) = 0 -> R = I -> 2
    assert _eff([[1, 1, 0, 0], [1, 0, 1, 0]]) == pytest.approx(2.0)
    # phi = (10*4 - 5*5) / (5*5) = 0.6, N = 10: S = 0.36 - (1 - 0.36)^2 / 10 = 0.31904
    # -> 4 / (2 + 2 * 0.31904) = 1.516253
    F = [[1] * 5 + [0] * 5, [1] * 4 + [0] * 5 + [1]]
    assert _eff(F) == pytest.approx(4 / (2 + 2 * (0.36 - 0.64**2 / 10)))
    # phi = 1/6 at N = 5: the noise (1 - 1/36)^2 / 5 exceeds phi^2 -> S = 0 -> 2
    assert _eff([[1, 1, 0, 0, 0], [1, 0, 1, 0, 0]]) == pytest.approx(2.0)
    # a never-failing model carries no correlation: left out, 1 model remains
    fm = matrix_from_array([[1, 1, 0, 0, 0], [0, 0, 0, 0, 0]])
    e = effective_number(fm, n_bootstrap=0)
    assert e.value == pytest.approx(1.0) and e.n_models_used == 1 and e.n_models == 2


def test_effective_number_sums_the_correlation_eigenvalues():
    # the uncorrected sum of phi^2 is (sum lambda^2 - M) / 2 of the sample correlations
    rng = np.random.default_rng(8)
    F = rng.random((12, 500)) < rng.uniform(0.1, 0.6, (12, 1))
    F[3] = F[2] ^ (rng.random(500) < 0.1)
    lam = np.linalg.eigvalsh(np.corrcoef(F.astype(float)))
    sums = bootstrap(F, {"s": lambda m: m.pair_sums["phi"]}, pair_sums={"phi": phi_moments},
                     n_bootstrap=0)["s"].observed
    assert sums[0] == pytest.approx(((lam**2).sum() - 12) / 2, rel=1e-12)
    e = effective_number(matrix_from_array(F), n_bootstrap=100, seed=0)
    assert e.lo < e.value <= e.hi and e.value > lam.sum() ** 2 / (lam**2).sum()


def test_poisson_binomial_hand():
    assert poisson_binomial_pmf([0.5, 0.5]) == pytest.approx([0.25, 0.5, 0.25])
    # p = 0.2, 0.5: P0 = 0.8*0.5 = 0.4, P1 = 0.2*0.5 + 0.8*0.5 = 0.5, P2 = 0.1
    assert poisson_binomial_pmf([0.2, 0.5]) == pytest.approx([0.4, 0.5, 0.1])
    assert poisson_binomial_pmf([]) == pytest.approx([1.0])
    pmf = poisson_binomial_pmf(np.full(30, 0.3))                  # equal p: binomial
    from scipy.stats import binom
    assert pmf == pytest.approx(binom.pmf(np.arange(31), 30, 0.3))


def test_outcome_histogram_hand():
    # k per item: 2, 1, 1, 0 -> counts [1, 2, 1]; p = 0.5, 0.5 -> expected 4 * [.25, .5, .25]
    fm = matrix_from_array([[1, 1, 0, 0], [1, 0, 1, 0]])
    out = outcome_histogram(fm, n_permutations=200, seed=0)
    assert out.table["observed"].tolist() == [1, 2, 1]
    assert out.table["expected"].tolist() == pytest.approx([1.0, 2.0, 1.0])
    assert out.statistic == 4 + 1 + 1                              # sum_i k_i^2
    # var(k) = mean(4, 1, 1, 0) - 1 = 0.5; independence: 2 * 0.25 = 0.5 -> ratio 1
    assert out.variance_ratio == pytest.approx(1.0)
    assert out.table["null_lo"].tolist() == [0, 0, 0]


def test_outcome_histogram_edge_cases():
    out = outcome_histogram(matrix_from_array([[0, 0, 0], [0, 0, 0]]), n_permutations=20)
    assert out.table["observed"].tolist() == [3, 0, 0] and math.isnan(out.p_value)
    out = outcome_histogram(matrix_from_array([[1, 1], [1, 1]]), n_permutations=20)
    assert out.table["observed"].tolist() == [0, 0, 2]
    # identical models, maximal concentration: no permutation does better
    F = np.tile(np.arange(40) < 10, (3, 1))
    out = outcome_histogram(matrix_from_array(F), n_permutations=199, seed=0)
    assert out.p_value == pytest.approx(1 / 200)


def test_null_histograms_two_models_is_hypergeometric():
    # two rows with 5 and 8 failures over 20 items, shuffled: the overlap (items failed by
    # both) is Hypergeometric(N=20, K=5, n=8)
    null = null_histograms(np.array([5, 8]), 20, n_permutations=20000, seed=0)
    assert (null.sum(axis=1) == 20).all() and (null @ np.arange(3) == 13).all()
    freq = np.bincount(null[:, 2], minlength=6)[:6] / 20000
    assert freq == pytest.approx(hypergeom.pmf(np.arange(6), 20, 5, 8), abs=0.01)


def test_null_histograms_match_brute_force_shuffles():
    rng = np.random.default_rng(2)
    n_fail, N, B = np.array([2, 3, 4]), 6, 40000
    null = null_histograms(n_fail, N, n_permutations=B, seed=1)
    F = np.arange(N)[None, :] < n_fail[:, None]
    perm = np.argsort(rng.random((B, 3, N)), axis=2)               # shuffle each row
    k = np.take_along_axis(np.broadcast_to(F, (B, 3, N)), perm, axis=2).sum(axis=1)
    brute = np.stack([(k == j).sum(axis=1) for j in range(4)], axis=1)
    assert null.mean(axis=0) == pytest.approx(brute.mean(axis=0), abs=0.03)
    assert null.var(axis=0) == pytest.approx(brute.var(axis=0), abs=0.04)
