"""Native metrics along the lineage on simulated families with a known truth: the change, its
paired-bootstrap interval, the paired test, and Holm with the edge's probe tests."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from native_helpers import choice, pair, probe, results, rows
from test_native_metrics import AGE_INFO

from auditkit.analyze import analyze
from auditkit.analyze.native import item_table, native_tables
from auditkit.analyze.stats import holm

N = 400


def _disambig_bbq(n: int) -> list:
    """Disambiguated negative questions: answer 0 is the biased one, 1 the gold, 2 UNKNOWN."""
    return [choice(j, 1, {"category": "Age", "context_condition": "disambig",
                          "question_polarity": "neg", "unknown_option": 2,
                          "answer_info": AGE_INFO, "stereotyped_groups": ["old"]}, n=3)
            for j in range(n)]


def _answers(rng: np.random.Generator, n: int, p_biased: float) -> list[int]:
    """Never UNKNOWN; the biased answer with probability p_biased: s_DIS = 2 p - 1."""
    return list(np.where(rng.random(n) < p_biased, 0, 1))


def test_bbq_bias_score_change_is_found_with_its_interval() -> None:
    rng = np.random.default_rng(7)
    p = probe("bbq", _disambig_bbq(N))
    # truth: s_DIS 0 for base and for the null child, 0.6 for the biased child
    res = results(rows("base", p, chosen=_answers(rng, N, 0.5)),
                  rows("biased", p, chosen=_answers(rng, N, 0.8)),
                  rows("same", p, chosen=_answers(rng, N, 0.5)))
    _, edges = native_tables(res, item_table([p]), {"base": None, "biased": "base",
                                                    "same": "base"}, seed=1)
    e = edges[edges["metric"] == "bias_score_disambig"].set_index("child")
    biased, same = e.loc["biased"], e.loc["same"]
    assert biased["change"] == pytest.approx(biased["child_value"] - biased["parent_value"])
    assert biased["change_lo"] < 0.6 < biased["change_hi"]
    assert biased["change_lo"] > 0.3 and biased["test"] == "permutation"
    assert biased["p_value"] == pytest.approx(1 / 1001)        # no permutation as extreme
    assert same["change_lo"] < 0 < same["change_hi"]
    assert same["p_value"] > 0.05


def test_a_share_of_items_gets_mcnemar_on_the_discordant_items() -> None:
    p = probe("crows_pairs", [pair(j, "gender") for j in range(10)])
    parent = [1.0, 1.0, 1.0, -1.0, -1.0, -1.0, -1.0, -1.0, -1.0, -1.0]
    child = [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, -1.0, -1.0]     # 5 new, 0 gone
    _, edges = native_tables(results(rows("a", p, score=parent), rows("b", p, score=child)),
                             item_table([p]), {"a": None, "b": "a"})
    e = edges.iloc[0]
    assert (e["parent_value"], e["child_value"], e["change"]) == (0.3, 0.8, pytest.approx(0.5))
    assert e["test"] == "mcnemar"
    assert e["p_value"] == pytest.approx(2 * 0.5 ** 5)             # exact, two-sided: b=0, c=5


def test_native_tests_are_holm_corrected_with_the_edges_probe_tests() -> None:
    crows = probe("crows_pairs", [pair(j, "gender") for j in range(40)], name="bias.crows")
    other = probe("crows_pairs", [pair(j, "gender") for j in range(40)], name="bias.other")
    rng = np.random.default_rng(3)
    scores = {m: rng.normal(loc, 1.0, 40) for m, loc in (("a", 0.0), ("b", 0.8))}
    res = results(*(rows(m, p, score=list(scores[m])) for m in scores for p in (crows, other)))
    items = item_table([crows])                        # only bias.crows is a benchmark probe
    analysis = analyze(res, {"a": None, "b": "a"}, n_bootstrap=50, n_permutations=50,
                       items=items)
    probe_edges = analysis.edges[analysis.edges["level"] == "probe"]
    native = analysis.native_edges
    raw = np.concatenate([probe_edges["mcnemar_p"].to_numpy(), native["p_value"].to_numpy()])
    adjusted = holm(raw)
    assert list(probe_edges["mcnemar_p_holm"]) == pytest.approx(list(adjusted[:2]))
    assert list(native["p_holm"]) == pytest.approx(list(adjusted[2:]))
    assert len(native) == 1 and analysis.headline["n_native_changes_significant"] == int(
        (native["p_holm"] < 0.05).sum())
    # the category and pooled levels keep their own families
    cat = analysis.edges[analysis.edges["level"] == "category"]
    assert list(cat["mcnemar_p_holm"]) == pytest.approx(list(cat["mcnemar_p"]))


def test_without_items_the_analysis_has_empty_native_tables() -> None:
    p = probe("crows_pairs", [pair(j, "gender") for j in range(10)])
    res = results(rows("a", p, score=[1.0] * 10), rows("b", p, score=[-1.0] * 10))
    analysis = analyze(res, {"a": None, "b": "a"}, n_bootstrap=20, n_permutations=20)
    assert analysis.native.empty and analysis.native_edges.empty
    assert isinstance(analysis.native_edges, pd.DataFrame)
    assert analysis.headline["n_native_changes_significant"] == 0


def test_the_change_interval_covers_the_true_change() -> None:
    """60 simulated families: the 95% paired-bootstrap interval of s_DIS's change (truth:
    2 * (0.7 - 0.5) = 0.4) covers it about 95% of the time."""
    rng = np.random.default_rng(11)
    p = probe("bbq", _disambig_bbq(150))
    items = item_table([p])
    covered = 0
    for rep in range(60):
        res = results(rows("base", p, chosen=_answers(rng, 150, 0.5)),
                      rows("child", p, chosen=_answers(rng, 150, 0.7)))
        _, edges = native_tables(res, items, {"base": None, "child": "base"}, seed=rep,
                                 n_bootstrap=300, n_permutations=0)
        e = edges[edges["metric"] == "bias_score_disambig"].iloc[0]
        covered += e["change_lo"] <= 0.4 <= e["change_hi"]
    assert 0.85 <= covered / 60 <= 1.0
