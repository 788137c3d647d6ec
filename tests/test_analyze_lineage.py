"""Lineage edges, blast radius, base-attributable share, bias direction and behaviour vs
lineage structure, on hand-computed cases."""
import math

import numpy as np
import pytest

from auditkit.analyze.direction import direction_table
from auditkit.analyze.lineage import (
    blast_items,
    blast_radius,
    blast_setup,
    descendants,
    edge_table,
    edges,
    path_lengths,
)
from auditkit.analyze.matrix import matrix_from_array
from auditkit.analyze.structure import behaviour_clustering, mantel_test

PARENTS = {"base": None, "a": "base", "b": "base", "c": "a"}
F = np.array([[1, 1, 1, 1, 0, 0, 0, 0],     # base
              [1, 1, 1, 0, 1, 0, 0, 0],     # a
              [1, 0, 0, 0, 0, 0, 0, 0],     # b
              [1, 1, 0, 0, 1, 1, 0, 0]])    # c
FM = matrix_from_array(F, models=list(PARENTS))


def test_edge_table_hand():
    t = edge_table(FM, PARENTS).set_index("child")
    assert t.loc["a", ["n11", "n10", "n01", "n00"]].tolist() == [3, 1, 1, 3]
    # base -> a: inherited 3/4, fixed 1/4, introduced 1/4, RR = 3; McNemar(1, 1) = 1
    assert t.loc["a", "inherited_rate"] == pytest.approx(0.75)
    assert t.loc["a", "fixed_rate"] == pytest.approx(0.25)
    assert t.loc["a", "introduced_rate"] == pytest.approx(0.25)
    assert t.loc["a", "rr"] == pytest.approx(3.0) and t.loc["a", "mcnemar_p"] == 1.0
    assert t.loc["a", "fixed_rate_lo"] == pytest.approx(1 - t.loc["a", "inherited_rate_hi"])
    # base -> b: n11 = 1, n10 = 3, n01 = 0, n00 = 4: inherited 1/4, introduced 0;
    # RR = (1/4) / 0 is unbounded: NaN, with the lower bound of the corrected table
    # (1.5 / 5) / (0.5 / 5) = 3, se = sqrt(1/1.5 - 1/5 + 1/0.5 - 1/5) = 1.505545:
    # 3 exp(-1.959964 * 1.505545) = 0.156891; McNemar(3, 0) = 2 * (1/2)^3 = 0.25
    assert t.loc["b", ["n11", "n10", "n01", "n00"]].tolist() == [1, 3, 0, 4]
    assert t.loc["b", "introduced_rate"] == 0.0 and math.isnan(t.loc["b", "rr"])
    assert t.loc["b", "rr_lo"] == pytest.approx(0.156891, rel=1e-5)
    assert math.isnan(t.loc["b", "rr_hi"])
    assert t.loc["b", "mcnemar_p"] == pytest.approx(0.25)
    # a -> c, the edge below the root
    assert t.loc["c", "parent"] == "a"
    assert t.loc["c", ["n11", "n10", "n01", "n00"]].tolist() == [3, 1, 1, 3]
    assert t.loc["c", "parent_rate"] == pytest.approx(0.5)


def test_edge_table_parent_never_fails():
    fm = matrix_from_array([[0, 0, 0], [1, 0, 0]], models=["p", "q"])
    row = edge_table(fm, {"p": None, "q": "p"}).iloc[0]
    assert math.isnan(row["inherited_rate"]) and row["introduced_rate"] == pytest.approx(1 / 3)
    assert math.isnan(row["rr"])


def test_blast_radius_hand():
    t = blast_radius(FM, PARENTS, n_bootstrap=200, seed=0).iloc[0]
    # root failures: items 0-3, failed by 3, 2, 1, 0 of the 3 descendants -> 6 / 12 = 0.5
    assert t["root"] == "base" and t["n_descendants"] == 3 and t["n_root_failures"] == 4
    assert t["blast"] == pytest.approx(0.5)
    assert t["blast_baseline"] == pytest.approx((4 + 1 + 4) / 24)   # mean descendant rate
    # all three keep item 0 only: 1 / 4
    assert t["everyone"] == pytest.approx(0.25)
    # descendant failures on root-failed items: 3 (a) + 1 (b) + 2 (c) of 4 + 1 + 4 = 6 / 9
    assert t["base_share"] == pytest.approx(6 / 9) and t["base_share_baseline"] == 0.5
    assert t["blast_lo"] <= t["blast"] <= t["blast_hi"]
    items = blast_items(FM, *blast_setup(FM, PARENTS)[:2])
    assert items["n_failing"].tolist() == [3, 2, 1, 0]
    assert items["share"].tolist() == pytest.approx([1, 2 / 3, 1 / 3, 0])


def test_lineage_helpers():
    assert descendants("base", PARENTS) == ["a", "b", "c"]
    assert edges(["base", "c"], PARENTS) == []                    # a is absent
    D = path_lengths(list(PARENTS), PARENTS)
    # base-a 1, base-b 1, base-c 2, a-b 2, a-c 1, b-c 3
    assert D[0].tolist() == [0, 1, 1, 2] and D[1, 2] == 2 and D[2, 3] == 3
    assert path_lengths(["base", "c"], PARENTS)[0, 1] == 2        # through absent a
    forest = path_lengths(["x", "y"], {"x": None, "y": None})
    assert math.isnan(forest[0, 1])
    # a missing intermediate does not cut c off from the root's blast radius
    fm = matrix_from_array(F[[0, 3]], models=["base", "c"])
    roots, desc, _ = blast_setup(fm, PARENTS)
    assert roots == ["base"] and desc.tolist() == [[False, True]]


def test_direction_hand():
    score = np.array([[1.0, 2, 3, 4], [2.0, 4, 6, 8], [4.0, 3, 2, 1]])
    fm = matrix_from_array(score > 2.5, models=["p", "c1", "c2"], kind="pair", score=score)
    t = direction_table(fm, {"p": None, "c1": "p", "c2": "p"}).set_index("child")
    assert t.loc["c1", "r"] == pytest.approx(1.0) and t.loc["c1", "rho"] == pytest.approx(1.0)
    assert t.loc["c2", "r"] == pytest.approx(-1.0) and t.loc["c1", "n_pairs"] == 4
    none = direction_table(matrix_from_array(score > 2.5), {"m0": None, "m1": "m0"})
    assert none.empty                                              # no pair items


def test_mantel_hand_and_permutation():
    # x = 1, 2, 3 and y = 2, 4, 7 over the pairs (0,1), (0,2), (1,2):
    # sxy = 5, sxx = 2, syy = 12.6667 -> r = 5 / sqrt(25.3333) = 0.993399
    X = np.array([[0, 1, 2], [1, 0, 3], [2, 3, 0]], float)
    Y = np.array([[0, 2, 4], [2, 0, 7], [4, 7, 0]], float)
    res = mantel_test(X, Y, n_permutations=50, seed=0)
    assert res.r == pytest.approx(0.993399, abs=1e-6) and res.n_pairs == 3
    T = path_lengths(list(TREE), TREE)                             # 8 models
    res = mantel_test(T, T, n_permutations=199, seed=0)
    assert res.r == pytest.approx(1.0) and res.p_value < 0.05
    Y[0, 2] = Y[2, 0] = np.nan                                     # NaN pairs left out
    assert mantel_test(X, Y, n_permutations=0).n_pairs == 2


TREE = {"r": None, "a": "r", "b": "r", "a1": "a", "a2": "a", "b1": "b", "b2": "b", "b3": "b"}


def test_clustering_recovers_tree_from_path_distances():
    models = list(TREE)
    T = path_lengths(models, TREE)
    c = behaviour_clustering(T / T.max(), models, TREE, T)
    assert c.edge_recall == 1.0 and len(c.mst_edges) == 7
    assert sorted(c.leaf_order) == sorted(models) and len(c.linkage) == 7
    assert c.cophenetic_r > 0.5
    # identical models (distance 0) still get an MST edge
    z = np.zeros((2, 2))
    assert behaviour_clustering(z, ["x", "y"], {"x": None, "y": "x"}, z + 1).edge_recall == 1.0
    one = behaviour_clustering(np.zeros((1, 1)), ["x"], {"x": None}, np.zeros((1, 1)))
    assert one.linkage.empty and math.isnan(one.edge_recall)
