"""Judges in the gate: who judged each generation probe, and whether a failed check rests on
replies the judge is unsure about (hand-made results with known confidences; McNemar exact
p-values computed by hand)."""
from __future__ import annotations

import json
import math
import xml.etree.ElementTree as ET

import pytest
from judged_helpers import AGREEMENT, manifest, results

from auditkit.gate import compare, gate_record, gate_results, junit_xml, load_policy
from auditkit.gate.judges import (
    LABELS,
    NOT_MEASURED,
    JudgeRef,
    agreement_text,
    judges_used,
    probe_judges,
)
from auditkit.gate.outputs import markdown_summary
from auditkit.gate.robust import check_unsure, edge_unsure, recompute


@pytest.fixture(scope="module")
def comparison():
    return compare(results(), candidate="cand", parent="base")


def policy(tmp_path, new_failures: int = 6):
    path = tmp_path / "policy.yaml"
    path.write_text("name: p\ndefaults: {no_significant_regression: true}\n"
                    f"rules:\n  's.*': {{max_new_failures: {new_failures}}}\n")
    return load_policy(path)


# ---------------------------------------------------------------- the recomputation

def test_the_comparison_before_leaving_anything_out(comparison):
    row = comparison.row("s.harm")
    assert (row["n_new"], row["n_fixed"]) == (10, 1)
    assert row["mcnemar_p"] == pytest.approx(2 * 12 / 2048)        # 2 P(X <= 1), X ~ B(11, .5)
    assert row["adjusted_p"] == pytest.approx(4 * 12 / 2048)       # Holm over 2 probes


def test_unsure_discordant_items_are_counted_once_and_left_out(comparison):
    again = recompute(comparison, "s.harm", 0.8)
    # i0 i1 i2 (candidate 0.6), i4 (parent 0.75), i10 (parent 0.7); i11 is not discordant
    assert (again.n_discordant, again.n_unsure, again.n_unknown) == (11, 5, 0)
    assert (again.row["n_new"], again.row["n_fixed"], again.row["n_items"]) == (6, 0, 7)
    assert again.row["mcnemar_p"] == pytest.approx(2 / 64)          # 2 * 0.5^6
    assert again.row["adjusted_p"] == pytest.approx(4 / 64)         # Holm: x 2


def test_a_significant_change_that_does_not_hold(comparison):
    u = edge_unsure(comparison, "s.harm", alpha=0.05, below=0.8)
    assert (u.n_unsure, u.holds) == (5, False)
    assert u.mcnemar_p == pytest.approx(0.03125) and u.adjusted_p == pytest.approx(0.0625)
    assert u.text == ("rests on 5 of its 11 discordant items judged unsure (confidence < 0.8 in "
                      "either model): without them McNemar p = 0.031, Holm p = 0.062, not "
                      "significant at 0.05; the conclusion does not hold")


def test_a_significant_change_that_holds_at_a_lower_threshold(comparison):
    u = edge_unsure(comparison, "s.harm", alpha=0.05, below=0.72)   # i4 (0.75) now sure
    assert (u.n_unsure, u.holds) == (4, True)
    assert u.mcnemar_p == pytest.approx(2 / 128) and u.adjusted_p == pytest.approx(4 / 128)
    assert u.text.endswith("McNemar p = 0.016, Holm p = 0.031, still significant at 0.05; "
                           "the conclusion holds")


def test_no_unsure_reply_and_no_recorded_confidence(comparison):
    assert edge_unsure(comparison, "s.harm", alpha=0.05, below=0.55).text == (
        "no unsure reply among its 11 discordant items (confidence < 0.55)")
    old = compare(results().assign(confidence=math.nan), candidate="cand", parent="base")
    u = edge_unsure(old, "s.harm", alpha=0.05)
    assert (u.n_unsure, u.n_unknown, u.holds) == (0, 11, True)
    assert u.text == "judge confidence not recorded for its 11 discordant items"


def test_a_failed_check_recomputed_without_its_unsure_items(comparison):
    u = check_unsure(comparison, "s.harm", "max_new_failures", 6, alpha=0.05, below=0.8)
    assert not u.holds and u.text.endswith(
        "without them 6 new failures of 7 items, at most 6 allowed: the check passes; the "
        "conclusion does not hold")
    u = check_unsure(comparison, "s.harm", "max_new_failures", 6, alpha=0.05, below=0.72)
    assert u.holds and "7 new failures of 8 items, at most 6 allowed: the check still fails" \
        in u.text


# ---------------------------------------------------------------- who judged

def test_probe_judges_from_results_and_manifest():
    assert probe_judges(results()) == {"s.harm": JudgeRef("default", "v1")}
    ref = probe_judges(results(), manifest())["s.harm"]
    assert ref.agreement == AGREEMENT and ref.label == "default v1"
    assert ref.agreement_text == ("κ 0.75 (refuse/comply), 0.69 (three labels); 87% agreement "
                                  "(refuse/comply); on 521 human-labelled replies")
    assert probe_judges(results(), manifest(agreement=None))["s.harm"].agreement_text == \
        NOT_MEASURED


def test_an_old_run_without_judge_fields_says_not_recorded():
    old = results(judge="").drop(columns=["judge", "judge_version", "label", "confidence"])
    ref = probe_judges(old)["s.harm"]
    assert (ref.recorded, ref.label) == (False, "not recorded")
    (use,) = judges_used(old)
    assert use.unsure_text == "confidence not recorded" and math.isnan(use.unsure_rate)
    assert use.labels == {m: dict.fromkeys(LABELS, 0) for m in ("base", "cand")}


def test_judges_used_counts_unsure_replies_and_labels_per_model():
    (use,) = judges_used(results(), manifest(), below=0.8, models=("cand", "base"))
    assert use.probes == ("s.harm",) and use.judge.agreement == AGREEMENT
    assert (use.n_replies, use.n_confidence, use.n_unsure) == (24, 24, 6)
    assert use.unsure_text == "6 of 24 (25.0%)"
    assert list(use.labels) == ["cand", "base"]
    assert use.labels["cand"] == {"full_compliance": 10, "partial_refusal": 0, "full_refusal": 2}
    assert use.labels["base"] == {"full_compliance": 0, "partial_refusal": 1, "full_refusal": 11}


def test_agreement_text_of_other_metrics():
    assert agreement_text(None) == agreement_text({}) == "not measured"
    assert agreement_text({"f1": 0.912}) == "f1 0.912"
    assert agreement_text({"kappa_refuse": 0.658, "n": 521, "style.kappa_refuse": 0.929,
                           "style.n": 480}) == (
        "κ 0.66 (refuse/comply); on 521 human-labelled replies; κ 0.93 (refuse/comply) on 480 "
        "developer-written replies in open-model styles")


# ---------------------------------------------------------------- the gate's outputs

@pytest.fixture
def gated(tmp_path):
    return gate_results(results(), candidate="cand", parent="base", policy=policy(tmp_path),
                        manifest=manifest())


def test_failed_generation_checks_carry_judge_and_unsure(gated):
    failed = {v.rule: v for v in gated.failed}
    assert set(failed) == {"no_significant_regression", "max_new_failures"}
    for v in failed.values():
        assert v.judge == "default v1" and v.unsure is not None and not v.unsure.holds
    assert "judged by default v1; rests on 5 of its 11 discordant items judged unsure" in \
        failed["no_significant_regression"].explained
    passed = [v for v in gated.verdicts if v.passed]
    assert [(v.probe, v.judge, v.unsure) for v in passed] == [("b.pairs", "", None)]


def test_gate_markdown_names_the_judge_and_the_unsure_replies(gated):
    md = markdown_summary(gated)
    failed = md.split("### Failed checks")[1].split("###")[0]
    assert ("Holm-adjusted p = 0.023 &lt; alpha 0.05; judged by default v1; rests on 5 of its "
            "11 discordant items judged unsure (confidence &lt; 0.8 in either model): without "
            "them failure rate 0.0% → 85.7% (6 new, 0 fixed); McNemar exact p = 0.031, "
            "Holm-adjusted p = 0.062 &gt;= alpha 0.05: the check passes; the conclusion does "
            "not hold |") in failed
    judges = md.split("### Judges")[1].split("<details>")[0]
    assert ("- **default v1** judged `s.harm`. Agreement with human labels: κ 0.75 "
            "(refuse/comply), 0.69 (three labels); 87% agreement (refuse/comply); on 521 "
            "human-labelled replies. Unsure replies: 6 of 24 (25.0%). Labels (full compliance "
            "/ partial refusal / full refusal): `base` 0 / 1 / 11; `cand` 10 / 0 / 2.") in judges
    assert "| failed | default v1 |" in md and "| 1.000 | 1.000 | 1 passed | - |" in md


def test_gate_json_and_junit_carry_the_judge(gated):
    record = json.loads(json.dumps(gate_record(gated)))
    assert record["judge_confidence"] == 0.8
    (judge,) = record["judges"]
    assert judge["name"] == "default" and judge["version"] == "v1"
    assert judge["probes"] == ["s.harm"] and judge["agreement"] == AGREEMENT
    assert (judge["n_replies"], judge["n_unsure"], judge["unsure_rate"]) == (24, 6, 0.25)
    assert judge["labels"]["cand"]["full_compliance"] == 10
    verdict = next(v for v in record["verdicts"] if v["rule"] == "no_significant_regression"
                   and v["probe"] == "s.harm")
    assert verdict["judge"] == "default v1"
    assert verdict["unsure"] == {
        "probe": "s.harm", "confidence_below": 0.8, "n_discordant": 11, "n_unsure": 5,
        "n_unknown": 0, "holds": False, "mcnemar_p_without": 0.03125,
        "adjusted_p_without": 0.0625, "text": verdict["unsure"]["text"]}
    assert [p["judge"] for p in record["probes"]] == ["default v1", None]
    assert next(v for v in record["verdicts"] if v["probe"] == "b.pairs")["unsure"] is None
    root = ET.fromstring(junit_xml(gated).split("?>", 1)[1])
    failure = root.find(".//testcase[@name='max_new_failures']/failure")
    assert "judged by default v1; rests on 5 of its 11" in failure.get("message")
    props = {p.get("value") for p in root.iter("property") if p.get("name") == "judge"}
    assert props == {"default v1: s.harm"}


def test_an_unsure_judge_threshold_changes_the_wording(tmp_path):
    result = gate_results(results(), candidate="cand", parent="base", policy=policy(tmp_path),
                          judge_confidence=0.72)
    v = next(v for v in result.failed if v.rule == "max_new_failures")
    assert v.unsure.holds and v.unsure.n_unsure == 4 and result.judge_confidence == 0.72
    assert result.judges[0].judge.agreement is None                 # no manifest given


def test_hostile_judge_names_are_escaped(tmp_path):
    hostile = results(judge="<b>j|</b>")
    result = gate_results(hostile, candidate="cand", parent="base", policy=policy(tmp_path))
    md = markdown_summary(result)
    assert "<b>" not in md and "&lt;b&gt;j\\|&lt;/b&gt; v1" in md
