"""Failure matrices, the co-failure bootstrap and pairwise agreement, on hand-computed cases."""
import math

import numpy as np
import pandas as pd
import pytest

from auditkit.analyze.agreement import (
    agreement_table,
    error_consistency,
    kappa_counts,
    pairwise_agreement,
    same_wrong_answer,
)
from auditkit.analyze.bootstrap import (
    bootstrap,
    item_weights,
    n_blocks,
    pair_counts,
    pair_replicates,
    replicate_margins,
    resampling,
)
from auditkit.analyze.matrix import failure_matrix, matrix_from_array


def _kappa(F):
    return error_consistency(pair_counts(np.asarray(F)))


def test_kappa_hand():
    # a = 11000, b = 10100: p_a = p_b = 0.4; they agree on items 1, 4, 5 -> c_obs = 0.6;
    # c_exp = 0.4*0.4 + 0.6*0.6 = 0.52; kappa = (0.6 - 0.52) / (1 - 0.52) = 0.08 / 0.48 = 1/6
    assert _kappa([[1, 1, 0, 0, 0], [1, 0, 1, 0, 0]]) == pytest.approx([1 / 6])


def test_kappa_edge_cases():
    # identical models with 0 < p < 1: c_obs = 1 -> kappa = 1
    assert _kappa([[1, 0, 1, 0], [1, 0, 1, 0]]) == pytest.approx([1.0])
    # opposite models, p = 0.5: c_obs = 0, c_exp = 0.5 -> kappa = -1
    assert _kappa([[1, 0, 1, 0], [0, 1, 0, 1]]) == pytest.approx([-1.0])
    # both never fail, or both always fail: c_obs = 1 = c_exp; 1.0 as in the paper's
    # reference code (model-vs-human: "if observed_consistency == 1.0: return 1.0")
    assert _kappa([[0, 0, 0], [0, 0, 0]]) == [1.0]
    assert _kappa([[1, 1, 1], [1, 1, 1]]) == [1.0]
    # one never fails, the other always fails: c_obs = 0 = c_exp -> kappa = 0
    assert _kappa([[0, 0, 0], [1, 1, 1]]) == [0.0]
    # a never fails, b fails 2 of 5: c_obs = 3/5, c_exp = 0*0.4 + 1*0.6 = 0.6 -> kappa = 0
    assert _kappa([[0, 0, 0, 0, 0], [1, 1, 0, 0, 0]]) == pytest.approx([0.0])
    # a single item: a fails, b passes: c_obs = 0, c_exp = 0 -> kappa = 0
    assert _kappa([[1], [0]]) == pytest.approx([0.0])
    assert _kappa([[1], [1]]) == [1.0]


def test_kappa_vectorised_equals_loop():
    rng = np.random.default_rng(3)
    F = rng.random((6, 50)) < rng.random((6, 1))
    got = _kappa(F)
    expect = []
    for a in range(6):
        for b in range(a + 1, 6):
            pa, pb = F[a].mean(), F[b].mean()
            c_obs = np.mean(F[a] == F[b])
            c_exp = pa * pb + (1 - pa) * (1 - pb)
            expect.append((c_obs - c_exp) / (1 - c_exp))
    assert got == pytest.approx(expect, abs=1e-15)


def test_kappa_float32_keeps_identical_models_at_one():
    # replicates are computed in float32: the cell form has no cancellation
    for na, n in ((1234567.0, 9999991.0), (3.0, 7.0), (16000000.0, 16777215.0)):
        k = kappa_counts(np.float32(n), np.float32(na), np.float32(na), np.float32(na))
        assert k == 1.0 and k.dtype == np.float32


def test_agreement_table_shared_and_conditional():
    fm = matrix_from_array([[1, 1, 0, 0, 0], [1, 0, 1, 0, 0], [1, 1, 1, 1, 0]],
                           models=["a", "b", "c"])
    t = agreement_table(fm, pair_counts(fm.F)).set_index(["model_a", "model_b"])
    # a, b share item 1 of 5: shared = 0.2; P(b | a) = 1/2; P(a | b) = 1/2
    assert t.loc[("a", "b"), "shared"] == pytest.approx(0.2)
    assert t.loc[("a", "b"), "p_b_given_a"] == pytest.approx(0.5)
    # a fails 2 items, c fails 4; both fail items 1 and 2: P(c | a) = 1, P(a | c) = 2/4
    assert t.loc[("a", "c"), "p_b_given_a"] == pytest.approx(1.0)
    assert t.loc[("a", "c"), "p_a_given_b"] == pytest.approx(0.5)
    assert t.loc[("a", "c"), "n_both"] == 2
    assert list(t.index) == [("a", "b"), ("a", "c"), ("b", "c")]
    assert t["kappa_lo"].isna().all()                 # no bootstrap asked for
    assert t["same_wrong"].isna().all()               # no choice items


def test_same_wrong_answer_hand():
    # gold 0 everywhere; options 3, 3, 4, 2
    chosen = np.array([[1, 2, 3, 0],      # fails items 0, 1, 2
                       [1, 1, 3, 1],      # fails all
                       [0, 2, 1, 1]])     # fails items 1, 2, 3
    fm = matrix_from_array(chosen != 0, kind="choice", chosen=chosen, n_options=[3, 3, 4, 2])
    swa = same_wrong_answer(fm)
    # (0,1): both wrong on 0, 1, 2; same on 0 and 2 -> 2/3; chance mean(1/2, 1/2, 1/3) = 4/9
    # (0,2): both wrong on 1, 2; same on 1 -> 1/2; chance mean(1/2, 1/3) = 5/12
    # (1,2): both wrong on 1, 2, 3; same on 3 -> 1/3; chance mean(1/2, 1/3, 1/1) = 11/18
    assert swa["n_both_wrong_choice"].tolist() == [3, 2, 3]
    assert swa["same_wrong"] == pytest.approx([2 / 3, 1 / 2, 1 / 3])
    assert swa["same_wrong_chance"] == pytest.approx([4 / 9, 5 / 12, 11 / 18])
    assert swa["same_wrong_ratio"] == pytest.approx([1.5, 1.2, (1 / 3) / (11 / 18)])
    # Kim et al.'s baseline averages over all choice items: mean(1/2, 1/2, 1/3, 1/1) = 7/12
    assert swa["same_wrong_chance_kim"] == pytest.approx([7 / 12] * 3)


def test_same_wrong_chance_is_exact():
    # large counts with option counts that do not divide evenly: exact to 1e-15, not the
    # 1e-7 of float32 sums
    rng = np.random.default_rng(0)
    n = 30000
    k = rng.choice([2, 3, 4, 5, 7], size=n)
    chosen = np.where(rng.random((3, n)) < 0.6, (rng.random((3, n)) * k).astype(int), 0)
    fm = matrix_from_array(chosen != 0, kind="choice", chosen=chosen, n_options=k)
    swa = same_wrong_answer(fm)
    F = chosen != 0
    for j, (a, b) in enumerate(((0, 1), (0, 2), (1, 2))):
        both = F[a] & F[b]
        inv = [1 / (kv - 1) for kv in k[both].tolist()]
        assert swa["n_both_wrong_choice"][j] == both.sum()
        assert abs(swa["same_wrong_chance"][j] - math.fsum(inv) / len(inv)) < 1e-15
        same = (both & (chosen[a] == chosen[b])).sum()
        assert swa["same_wrong"][j] == same / both.sum()


def test_bootstrap_weights_are_column_resampling():
    rng = np.random.default_rng(0)
    F = rng.random((4, 30)) < 0.4
    rs = resampling(30, 4, 5, seed=7)                      # 30 items, 4 models: G = N
    assert rs.n_blocks == 30 and (rs.cols[:, 0] == np.arange(30)).all()
    W = item_weights(np.random.default_rng(7), 30, 5)      # the same draws
    idx = np.random.default_rng(7).integers(0, 30, size=(5, 30))
    assert (W == rs.weights).all() and (W.sum(axis=1) == 30).all()
    margins = replicate_margins(F, None, rs)
    (start, stop, first, both), = pair_replicates(rs.layout(F), rs.weights)
    assert (start, stop, first) == (0, 4, 0)
    for b in range(5):
        Fb = F[:, idx[b]].astype(float)                    # explicit resample
        assert both[:, :, b] == pytest.approx(Fb @ Fb.T)
        assert margins.fail[b] == pytest.approx(Fb.sum(axis=1))
        assert W[b] == pytest.approx(np.bincount(idx[b], minlength=30))


def test_bootstrap_is_seeded_and_covers_estimate():
    rng = np.random.default_rng(1)
    F = rng.random((3, 400)) < 0.3
    F[1] = F[0] ^ (rng.random(400) < 0.1)                           # 1 copies 0 with noise
    a = bootstrap(F, pair_intervals={"k": kappa_counts}, n_bootstrap=300, seed=5)["k"]
    b = bootstrap(F, pair_intervals={"k": kappa_counts}, n_bootstrap=300, seed=5)["k"]
    assert np.array_equal(a.lo, b.lo) and np.array_equal(a.hi, b.hi) and a.lo.shape == (3,)
    t = pairwise_agreement(matrix_from_array(F), n_bootstrap=300, seed=5)
    assert (t["kappa_lo"] <= t["kappa"]).all() and (t["kappa"] <= t["kappa_hi"]).all()
    assert t.loc[0, "kappa_lo"] > 0.6                                # strongly agreeing pair


def test_pair_interval_equals_per_pair_percentiles():
    # the streamed per-pair intervals, rows a few at a time, equal the percentiles of
    # kappa computed from explicitly resampled items
    rng = np.random.default_rng(3)
    F = rng.random((9, 120)) < rng.uniform(0.1, 0.7, (9, 1))
    rs = resampling(120, 9, 200, seed=11)
    got = bootstrap(F, pair_intervals={"k": kappa_counts}, n_bootstrap=200,
                    seed=11, chunk=200 * 9)["k"]                   # tiny chunks: one row each
    W = rs.weights.astype(float)                                    # (B, N): G = N here
    iu, ju = np.triu_indices(9, 1)
    both = np.einsum("bi,ai,ci->bac", W, F, F)[:, iu, ju]
    fail = W @ F.T.astype(float)
    kappa = kappa_counts(W.sum(axis=1)[:, None], fail[:, iu], fail[:, ju], both)
    assert got.lo == pytest.approx(np.quantile(kappa, 0.025, axis=0), abs=1e-6)
    assert got.hi == pytest.approx(np.quantile(kappa, 0.975, axis=0), abs=1e-6)


def test_margin_statistics_see_pair_sums():
    F = np.array([[1, 1, 0, 0], [1, 0, 1, 0], [1, 1, 1, 0]])
    out = bootstrap(F, {"s": lambda m: m.pair_sums["nab"] + 0 * m.n_items},
                    pair_sums={"nab": lambda n, a, b, ab: ab}, n_bootstrap=50, seed=0)["s"]
    assert out.observed == 1 + 2 + 2                   # both counts of (0,1), (0,2), (1,2)
    assert out.samples.shape == (50,) and np.isfinite([out.lo, out.hi]).all()


def _results(rows):
    cols = ["model", "probe", "kind", "category", "item", "failed", "score", "chosen",
            "n_options"]
    return pd.DataFrame(rows, columns=cols)


def test_failure_matrix_from_results():
    df = _results([
        ("a", "p1", "pair", "bias", "x", True, 0.5, 0, 2),
        ("b", "p1", "pair", "bias", "x", False, -0.2, 1, 2),
        ("a", "p1", "pair", "bias", "y", False, -1.0, 1, 2),
        ("b", "p1", "pair", "bias", "y", True, 0.1, 0, 2),
        ("a", "p1", "pair", "bias", "z", True, 0.3, 0, 2),          # b has no z: dropped
        ("a", "p2", "choice", "safety", "x", True, 0.4, 2, 3),
        ("b", "p2", "choice", "safety", "x", True, 0.9, 1, 3),
    ])
    fm = failure_matrix(df, models=["b", "a"], probe="p1")
    assert fm.models == ("b", "a") and fm.items == ("x", "y") and fm.n_dropped == 1
    assert fm.F.tolist() == [[False, True], [True, False]]
    assert fm.score.tolist() == [[-0.2, 0.1], [0.5, -1.0]]
    pooled = failure_matrix(df, models=["a", "b"])
    assert pooled.items == ("p1/x", "p1/y", "p2/x")             # same item id in two probes
    assert pooled.item_kind.tolist() == ["pair", "pair", "choice"]
    assert pooled.chosen[:, 2].tolist() == [2, 1] and pooled.n_options.tolist() == [2, 2, 3]
    cat = failure_matrix(df, models=["a", "b"], category="safety")
    assert cat.items == ("p2/x",) and cat.F.all()


def test_number_of_blocks():
    assert n_blocks(1000, 7, 1000) == 1000              # small: the plain item bootstrap
    assert n_blocks(10**6, 7, 1000) == 20_000           # capped by MAX_BLOCKS
    assert n_blocks(20000, 200, 1000) == 1005           # 2e10 / (1000 * 19,900)
    # never below MIN_BLOCKS, however many models (was 20 blocks at 1,000 models, 1 from
    # 3,163 models on)
    assert n_blocks(100_000, 1000, 1000) == 200
    assert n_blocks(100_000, 5000, 1000) == 200
    assert n_blocks(150, 5000, 1000) == 150             # fewer items than that: every item


def test_block_bootstrap_matches_item_bootstrap():
    rng = np.random.default_rng(4)
    F = rng.random((5, 2000)) < 0.3
    F[1] = F[0] ^ (rng.random(2000) < 0.2)
    stat = {"k": kappa_counts}
    exact = bootstrap(F, pair_intervals=stat, n_bootstrap=400, seed=1)["k"]
    blocks = bootstrap(F, pair_intervals=stat, n_bootstrap=400, seed=1, min_blocks=100,
                       budget=0)["k"]                                     # G = 100
    assert np.array_equal(exact.observed, blocks.observed)
    # the same spread (interval widths within 20%)
    ratio = (blocks.hi - blocks.lo) / (exact.hi - exact.lo)
    assert ratio == pytest.approx(np.ones(10), abs=0.2)
    # every replicate still weighs N items in total (blocks of 20 items)
    rs = resampling(2000, 5, 8, seed=0, min_blocks=100, budget=0)
    assert rs.n_blocks == 100 and (replicate_margins(F, None, rs).n_items == 2000).all()
    (_, _, _, both), = pair_replicates(rs.layout(F), rs.weights)
    assert (np.diagonal(both, axis1=0, axis2=1) == replicate_margins(F, None, rs).fail).all()
