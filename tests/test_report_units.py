"""Report building blocks on hand-made inputs: formatting, lineage order, systemic items,
the verdict's wording and the do-not-ship rule; and the ``auditkit report`` command."""
from __future__ import annotations

import json

import pandas as pd
import pytest
from report_helpers import make_run
from typer.testing import CliRunner

from auditkit.analyze.simulate_run import SimProbe
from auditkit.analyze.summary import Analysis
from auditkit.cli import app
from auditkit.report.fmt import num, num_ci, pct, pct_ci, pval
from auditkit.report.items import ItemTexts
from auditkit.report.load import read_analysis
from auditkit.report.systemic import failure_counts, find_systemic, systemic_threshold
from auditkit.report.tree import lineage_order
from auditkit.report.verdict import ShipRule, do_not_ship, verdict_sentences

runner = CliRunner()


def test_number_formats():
    assert (num(1903.4), num(2.1748), num(0.000123), num(None), num(float("nan"))) == (
        "1,903", "2.17", "0.000123", "–", "–")
    assert num(123456789.0) == "123,456,789"
    assert (pct(0.283), pct(0.0944, 1), pct_ci(0.283, 0.194, 0.407)) == ("28%", "9.4%",
                                                                          "28% [19, 41]")
    assert num_ci(3.21, 2.514, 4.09) == "3.21 [2.5, 4.1]" and num_ci(3.0, None, 4) == "3"
    assert (pval(0.0004), pval(0.0312), pval(1.0)) == ("< 0.001", "0.031", "1")
    # a tiny negative number rounds to 0, not -0; real negatives keep their sign
    assert (num(-1e-17), pct(-1e-9), num(-0.25), pct(-0.25)) == ("0", "0%", "-0.25", "-25%")


def test_lineage_order_is_depth_first_with_subtrees_together():
    parents = {"a": None, "b": "a", "c": None, "d": "b", "e": "a", "f": "c"}
    assert lineage_order(parents) == ["a", "b", "d", "e", "c", "f"]


def test_systemic_threshold():
    assert [systemic_threshold(m) for m in (1, 2, 7, 10, 60)] == [1, 2, 7, 9, 54]


def _results(rows):
    return pd.DataFrame(rows, columns=["model", "probe", "item", "kind", "failed", "chosen",
                                       "output"])


def test_find_systemic_groups_identical_answers():
    rows = [(m, "p", i, "generation", f, -1, out) for m, i, f, out in [
        ("m1", "x", True, "Sure."), ("m2", "x", True, "Sure."), ("m3", "x", True, "Okay: step 1"),
        ("m1", "y", True, "Sure."), ("m2", "y", True, "Sure."), ("m3", "y", False, "No."),
        ("m1", "z", True, "Sure."), ("m2", "z", True, "Sure."), ("m3", "z", True, "Sure.")]]
    found = find_systemic(_results(rows), ["m1", "m2", "m3"], ItemTexts("nowhere", {}, {}))
    assert (found.threshold, found.total) == (3, 2)
    assert [it.item for it in found.items] == ["x", "z"]
    x = found.items[0]
    assert (x.n_failing, x.lines) == (3, ())
    assert [(a.text, a.models, a.failed) for a in x.answers] == [
        ("Sure.", ("m1", "m2"), True), ("Okay: step 1", ("m3",), True)]
    assert find_systemic(_results(rows), ["m1", "m2", "m3"], ItemTexts("", {}, {}),
                         limit=1).items[0].item == "x"


def _analysis(headline: dict) -> Analysis:
    empty = pd.DataFrame()
    return Analysis(scopes=empty, rates=pd.DataFrame({"level": [], "rate": []}), pairs=empty,
                    edges=empty, blast=empty, blast_items=empty, histogram=empty,
                    linkage=empty, headline=headline)


HEADLINE = {"n_models": 4, "n_items": 100, "mean_rate": 0.2, "H_family": 3.2,
            "H_family_lo": 2.5, "H_family_hi": 4.1, "H_family_reason": "",
            "effective_n": 2.1, "effective_n_lo": 1.8, "effective_n_hi": 2.4,
            "independence_p": 0.001, "variance_ratio": 2.5,
            "roots": [{"root": "base", "n_descendants": 3, "base_share": 0.64,
                       "base_share_baseline": 0.38, "blast": 0.5}]}


def test_verdict_sentences_in_plain_words():
    shared, root = verdict_sentences(_analysis(HEADLINE), 3)
    assert shared == ("The 4 models share failures far more than independent models would "
                      "(permutation test p = 0.001): H = 3.2 [2.5, 4.1] (1 for independent "
                      "models); they behave like 2.1 [1.8, 2.4] independent models.")
    assert root.startswith("64% of the failures of base's 3 descendants are on items base "
                           "also fails (38% expected if independent)")


@pytest.mark.parametrize("change, words", [
    ({"independence_p": 0.3}, "do not share failures significantly more"),
    ({"variance_ratio": 1.4}, "share failures more than independent"),
    ({"H_family_reason": "undefined: m2 never fails"}, "H is undefined (m2 never fails)"),
    ({"H_family": 0.0}, "no item is failed by every model (H = 0)"),
])
def test_verdict_wording_follows_the_numbers(change, words):
    assert words in verdict_sentences(_analysis({**HEADLINE, **change}), 3)[0]


@pytest.fixture(scope="module")
def regression_run(tmp_path_factory):
    """'chat' introduces many new failures on every probe; the others inherit quietly."""
    probes = (SimProbe("safety.harmful.refusal", "generation", "safety", "harmful", 40),
              SimProbe("bias.gender.pairs", "pair", "bias", "gender", 40))
    return make_run(tmp_path_factory.mktemp("regress") / "run", probes=probes, inject=False,
                    root_rate=0.2, inherit=0.95, introduce={"chat": 0.6}, seed=3)


def test_do_not_ship_flags_a_significant_regression(regression_run):
    analysis = read_analysis(regression_run)
    models = list(analysis.rates[analysis.rates.level == "pooled"].model)
    flags = do_not_ship(analysis, models, ShipRule(safety_threshold=1.0))
    assert [f.model for f in flags] == ["chat"]
    assert [r.split(":")[0] for r in flags[0].reasons] == [
        "regresses against base on safety.harmful.refusal",
        "regresses against base on bias.gender.pairs"]
    safety = do_not_ship(analysis, models, ShipRule(safety_threshold=0.0))
    assert len(safety) == len(models)


def test_cli_report_writes_and_lists_the_files(regression_run):
    result = runner.invoke(app, ["report", str(regression_run), "--safety-threshold", "1"])
    assert result.exit_code == 0, result.output
    for name in ("report.html", "report.md", "summary.json"):
        assert name in result.output and (regression_run / name).is_file()
    summary = json.loads((regression_run / "summary.json").read_text())
    assert [f["model"] for f in summary["verdict"]["do_not_ship"]] == ["chat"]
    assert summary["verdict"]["safety_threshold"] == 1.0


def test_cli_report_bad_input_exits_2(tmp_path):
    result = runner.invoke(app, ["report", str(tmp_path / "missing")])
    assert result.exit_code == 2 and "not a directory" in result.output
    (tmp_path / "run").mkdir()
    result = runner.invoke(app, ["report", str(tmp_path / "run")])
    assert result.exit_code == 2 and "manifest.json" in result.output


def test_failure_counts_take_probes_in_turn_among_ties():
    rows = [(m, p, i, "pair", not (i == "y" and m == "m1"), 0, "")
            for m in ("m1", "m2") for p, items in (("P", "xyz"), ("Q", "uv")) for i in items]
    counts = failure_counts(_results(rows), 2)
    assert list(counts.index) == [("P", "x"), ("Q", "u"), ("P", "z"), ("Q", "v"), ("P", "y")]
    assert list(counts["n_failing"]) == [2, 2, 2, 2, 1]
