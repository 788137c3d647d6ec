"""Coverage of the 95% intervals on simulated families whose truth is known (seeded, small).

Each test counts how often the interval contains the true value over independent
replications. With R replications the count's standard error is sqrt(0.95 * 0.05 / R) (1.1%
at R = 400), so the bounds below are the 95% +- 3% target widened by about 2 standard errors
of the simulation itself. Larger runs: benchmarks/calibrate_analysis.py, figures in
benchmarks/README.md.
"""
import numpy as np
import pytest

from auditkit.analyze.agreement import kappa_counts
from auditkit.analyze.bootstrap import bootstrap
from auditkit.analyze.homogenization import homogenization
from auditkit.analyze.matrix import matrix_from_array
from auditkit.analyze.simulate import simulate_family, simulate_independent, tree


def h_coverage(draw, truth: float, reps: int) -> tuple[float, float]:
    """(coverage, share of replications without any all-fail item)."""
    covered = zero = 0
    for seed in range(reps):
        h = homogenization(matrix_from_array(draw(seed)))
        covered += h.H_lo <= truth <= h.H_hi
        zero += h.n_all_fail == 0
    return covered / reps, zero / reps


def test_h_interval_covers_with_no_all_fail_item():
    # the case: 7 independent models x 400 items at p = 0.3 (true H = 1). No item
    # fails everywhere in 91% of the replications; the old bootstrap interval was [0, 0]
    # there (coverage 0.09). A discrete count with mean 400 * 0.3^7 = 0.087 cannot give
    # exactly 95%: an interval containing 0 when the count is 0 covers 1 - P(count >= 2).
    cover, zero = h_coverage(lambda s: simulate_independent([0.3] * 7, n_items=400, seed=s),
                             1.0, 400)
    assert zero == pytest.approx(0.91, abs=0.04)
    assert cover >= 0.95


def test_h_interval_covers_with_few_all_fail_items():
    # 5 independent models at p = 0.4 x 400 items: 4.1 all-fail items expected (the old
    # coverage was 0.88 in this regime)
    cover, _ = h_coverage(lambda s: simulate_independent([0.4] * 5, n_items=400, seed=s),
                          1.0, 400)
    assert 0.92 <= cover <= 0.98


def test_h_interval_covers_under_inheritance():
    # root + 4 children: a = P(all fail) = p * prod a_child; p_child = p a + (1 - p) b
    p, a, b = 0.3, 0.8, 0.1
    p_child = p * a + (1 - p) * b
    truth = (p * a**4) / (p * p_child**4)

    def draw(seed: int) -> np.ndarray:
        return simulate_family(tree(4, 1), n_items=500, root_rate=p, inherit=a, introduce=b,
                               seed=seed).F
    cover, _ = h_coverage(draw, truth, 400)
    assert 0.92 <= cover <= 0.98


def test_h_interval_covers_with_rare_failures():
    # rare failures, strongly inherited: root 5%, children keep 90% and add 0.5%
    p, a, b = 0.05, 0.9, 0.005
    p_child = p * a + (1 - p) * b
    truth = (p * a**3) / (p * p_child**3)

    def draw(seed: int) -> np.ndarray:
        return simulate_family(tree(3, 1), n_items=1000, root_rate=p, inherit=a,
                               introduce=b, seed=seed).F
    cover, _ = h_coverage(draw, truth, 400)
    assert 0.92 <= cover <= 0.98


def kappa_truth(p: float, a: float, b: float) -> float:
    """Population error consistency of a root (rate p) and a child (inherit a, introduce b)."""
    p_child = p * a + (1 - p) * b
    c_obs = p * a + (1 - p) * (1 - b)
    c_exp = p * p_child + (1 - p) * (1 - p_child)
    return (c_obs - c_exp) / (1 - c_exp)


def kappa_coverage(p: float, a: float, b: float, n_items: int, reps: int,
                   **design: int) -> float:
    truth, covered = kappa_truth(p, a, b), 0
    for seed in range(reps):
        F = simulate_family({"r": None, "c": "r"}, n_items=n_items, root_rate=p, inherit=a,
                            introduce=b, seed=seed).F
        k = bootstrap(F, pair_intervals={"k": kappa_counts}, n_bootstrap=400, seed=seed,
                      **design)["k"]
        covered += k.lo[0] <= truth <= k.hi[0]
    return covered / reps


def test_kappa_interval_covers():
    assert 0.92 <= kappa_coverage(0.3, 0.7, 0.1, 300, 300) <= 0.98


def test_kappa_interval_covers_with_rare_failures():
    # about 20 failures per model
    assert 0.92 <= kappa_coverage(0.02, 0.6, 0.01, 1000, 300) <= 0.98


def test_kappa_interval_covers_with_blocks():
    # what large families get: the items resampled in MIN_BLOCKS = 200 blocks (the old
    # budget gave 20 blocks at 1,000 models, 5 at 2,000 and 1 from 3,163 on)
    assert 0.92 <= kappa_coverage(0.3, 0.7, 0.1, 2000, 300, budget=0) <= 0.98
