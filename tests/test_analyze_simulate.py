"""The simulator and the analysis' recovery and calibration on simulated families.

Replication counts are small so the file runs in seconds; benchmarks/calibrate_analysis.py
runs the same checks with more replications. Every draw is seeded, so these are fixed numbers.
"""
import numpy as np
import pytest
from scipy.stats import kstest

from auditkit.analyze.agreement import pairwise_agreement
from auditkit.analyze.histogram import outcome_histogram
from auditkit.analyze.homogenization import homogenization
from auditkit.analyze.lineage import edge_table, path_lengths
from auditkit.analyze.matrix import matrix_from_array
from auditkit.analyze.simulate import simulate_family, simulate_independent, tree
from auditkit.analyze.structure import behaviour_clustering, behaviour_distance, mantel_test


def test_tree_and_simulator_truth():
    parents = tree(2, 2)
    assert list(parents) == ["m0", "m1", "m2", "m3", "m4", "m5", "m6"]
    assert parents["m3"] == "m1" and parents["m6"] == "m2" and parents["m0"] is None
    assert list(tree([3, 1], 2).values()).count("m0") == 3
    sim = simulate_family(parents, n_items=50, inherit={"m1": 0.9}, introduce=0.1, seed=0)
    assert sim.F.shape == (7, 50) and sim.F.dtype == bool
    assert np.isnan(sim.inherit[0]) and sim.inherit[1] == 0.9 and np.isnan(sim.inherit[2])
    assert sim.root_rate[0] == 0.3 and np.isnan(sim.root_rate[1])
    again = simulate_family(parents, n_items=50, inherit={"m1": 0.9}, introduce=0.1, seed=0)
    assert np.array_equal(sim.F, again.F)
    # a = 1, b = 0: every child is a copy of the root
    copy = simulate_family(parents, n_items=100, inherit=1.0, introduce=0.0, seed=1)
    assert (copy.F == copy.F[0]).all()


def test_edge_estimates_recover_a_and_b():
    # 200 replications x 6 edges of tree(2, 2), p = 0.3, a = 0.7, b = 0.1, 300 items.
    # Measured: coverage of a 0.948, of b 0.958; mean estimates 0.699 and 0.100.
    a, b = 0.7, 0.1
    parents = tree(2, 2)
    cov_a, cov_b, est_a, est_b = [], [], [], []
    for seed in range(200):
        sim = simulate_family(parents, n_items=300, root_rate=0.3, inherit=a, introduce=b,
                              seed=seed)
        t = edge_table(matrix_from_array(sim.F, models=sim.models), parents)
        cov_a += list((t.inherited_rate_lo <= a) & (a <= t.inherited_rate_hi))
        cov_b += list((t.introduced_rate_lo <= b) & (b <= t.introduced_rate_hi))
        est_a += list(t.inherited_rate)
        est_b += list(t.introduced_rate)
    assert 0.92 <= np.mean(cov_a) <= 0.98 and 0.92 <= np.mean(cov_b) <= 0.98
    assert np.mean(est_a) == pytest.approx(a, abs=0.01)
    assert np.mean(est_b) == pytest.approx(b, abs=0.005)


def test_h_near_one_for_independent_and_large_with_inheritance():
    # Measured: mean H 1.008 over 20 independent families, 20/20 intervals contain 1;
    # with a = 0.9, b = 0.05 (root + 4 children): H = 78.3 [67.4, 91.5].
    hs, covered = [], 0
    for seed in range(20):
        F = simulate_independent([0.5, 0.4, 0.6, 0.5, 0.3], n_items=4000, seed=seed)
        h = homogenization(matrix_from_array(F))
        hs.append(h.H)
        covered += h.H_lo <= 1 <= h.H_hi
    assert np.mean(hs) == pytest.approx(1.0, abs=0.08) and covered >= 17
    sim = simulate_family(tree(4, 1), n_items=4000, root_rate=0.3, inherit=0.9,
                          introduce=0.05, seed=0)
    h = homogenization(matrix_from_array(sim.F))
    assert h.H > 30 and h.H_lo > 10


def test_permutation_pvalues_uniform_under_independence():
    # 200 independent 7-model families x 200 items, 199 permutations each.
    # Measured: share p < 0.05 0.050 (histogram test), 0.040 (Mantel); KS p 0.45 and 0.89.
    parents = tree(2, 2)
    models = list(parents)
    L = path_lengths(models, parents)
    hist_p, mantel_p = [], []
    for seed in range(200):
        rng = np.random.default_rng(seed)
        fm = matrix_from_array(simulate_independent(rng.uniform(0.1, 0.6, 7), n_items=200,
                                                    seed=rng), models=models)
        hist_p.append(outcome_histogram(fm, n_permutations=199, seed=rng).p_value)
        kappa = pairwise_agreement(fm, n_bootstrap=0)["kappa"].to_numpy()
        mantel_p.append(mantel_test(behaviour_distance(kappa, 7), L, n_permutations=199,
                                    seed=rng).p_value)
    for ps in (np.array(hist_p), np.array(mantel_p)):
        assert 0.01 <= np.mean(ps < 0.05) <= 0.10
        assert kstest(ps, "uniform").pvalue > 0.01


def test_permutation_tests_detect_inheritance():
    parents = tree(2, 2)
    sim = simulate_family(parents, n_items=300, root_rate=0.3, inherit=0.8, introduce=0.05,
                          seed=0)
    fm = matrix_from_array(sim.F, models=sim.models)
    assert outcome_histogram(fm, n_permutations=199, seed=0).p_value == pytest.approx(0.005)
    kappa = pairwise_agreement(fm, n_bootstrap=0)["kappa"].to_numpy()
    L = path_lengths(sim.models, parents)
    assert mantel_test(behaviour_distance(kappa, 7), L, n_permutations=199).p_value < 0.05


def _recall(a: float, b: float, seed: int) -> float:
    parents = tree(3, 2)                                   # 13 models, 12 edges
    sim = simulate_family(parents, n_items=1000, root_rate=0.3, inherit=a, introduce=b,
                          seed=seed)
    kappa = pairwise_agreement(matrix_from_array(sim.F), n_bootstrap=0)["kappa"].to_numpy()
    return behaviour_clustering(behaviour_distance(kappa, 13), sim.models, parents,
                                path_lengths(sim.models, parents)).edge_recall


def test_tree_recovered_with_strong_inheritance_only():
    # Measured: strong (a = 0.9, b = 0.02): the exact tree in 20 of 20; independent children
    # (a = b = 0.3): mean edge recall 0.11.
    assert [_recall(0.9, 0.02, s) for s in range(20)] == [1.0] * 20
    assert np.mean([_recall(0.3, 0.3, s) for s in range(20)]) < 0.5
