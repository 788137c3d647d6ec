"""The fast paths of the analysis give the numbers of the direct computations."""
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.stats import rankdata

from auditkit.analyze.agreement import pair_index
from auditkit.analyze.direction import average_ranks
from auditkit.analyze.matrix import failure_matrix
from auditkit.analyze.parallel import map_scopes
from auditkit.analyze.simulate import tree
from auditkit.analyze.simulate_run import simulated_run
from auditkit.analyze.structure import _masked_corr, _null_corr
from auditkit.analyze.summary import analyze, analyze_pooled


def test_average_ranks_equal_scipy_with_and_without_ties():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((6, 50))
    X[2, :10] = 0.25                                     # a row with ties
    X[4, 3] = X[4, 7]
    assert np.array_equal(average_ranks(X), rankdata(X, axis=1))


@pytest.mark.parametrize("m, nan, asym", [(7, False, False), (12, True, False),
                                          (12, False, True)])
def test_mantel_null_equals_gathered_pairs(m, nan, asym):
    rng = np.random.default_rng(m)
    A = rng.random((m, m))
    D = A if asym else A + A.T
    Y = rng.random((m, m))
    if nan:
        Y[0, 3] = np.nan
    iu, ju = pair_index(m)
    perms = np.argsort(rng.random((30, m)), axis=1)
    got = _null_corr(D, Y[iu, ju], perms)
    assert got == pytest.approx(_masked_corr(D[perms[:, iu], perms[:, ju]], Y[iu, ju]),
                                abs=1e-12)


def test_scopes_cut_from_the_pooled_matrix_equal_their_own_matrices():
    results, _ = simulated_run(seed=3)
    results = results.iloc[:-5]                          # a few items lose a model
    models = list(pd.unique(results["model"]))
    pooled = failure_matrix(results, models=models)
    for probe in pd.unique(results["probe"]):
        own, cut = failure_matrix(results, models=models, probe=probe), pooled.scope(probe)
        assert own.items == cut.items and own.n_dropped == cut.n_dropped
        assert (own.F == cut.F).all() and (own.chosen == cut.chosen).all()
        assert np.array_equal(own.score, cut.score, equal_nan=True)
    for cat in pd.unique(results["category"]):
        own, cut = (failure_matrix(results, models=models, category=cat),
                    pooled.scope(category=cat))
        assert own.items == cut.items and (own.F == cut.F).all()
        assert own.n_dropped == cut.n_dropped


def test_workers_give_the_same_tables():
    results, manifest = simulated_run(parents=tree(2, 2), seed=2)
    parents = {m.name: m.parent for m in manifest.models}
    pooled = failure_matrix(results, models=list(parents))
    one = analyze_pooled(pooled, parents, n_bootstrap=100, n_permutations=50, workers=1)
    two = analyze_pooled(pooled, parents, n_bootstrap=100, n_permutations=50, workers=2)
    for name, table in one.tables().items():
        pd.testing.assert_frame_equal(table, two.tables()[name])
    assert map_scopes(lambda x: x * x, [3, 1, 2], workers=2, weights=[1, 3, 2]) == [9, 1, 4]


def test_analysis_emits_no_warnings():
    # never-failing and always-failing models, a model alone in its tree, and a probe whose
    # items all lack a model's result (an empty scope: the old code divided 0 by 0 there)
    results, manifest = simulated_run(parents={"a": None, "b": "a", "c": "b", "d": None},
                                      seed=4)
    results.loc[results["model"] == "b", "failed"] = False
    results.loc[results["model"] == "c", "failed"] = True
    first = results["probe"] == results["probe"].iloc[0]
    results = results[~(first & (results["model"] == "d"))]
    parents = {m.name: m.parent for m in manifest.models}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        analysis = analyze(results, parents, n_bootstrap=50, n_permutations=20)
    assert (analysis.pairs["kappa"].notna()).all()
