"""``auditkit gate`` end to end with the fake backend: exit codes, outputs, caching."""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest
from family_helpers import fake_adapter
from gate_helpers import (
    BENIGN,
    HARMFUL,
    N_ITEMS,
    MemberOpener,
    fake_gate_family,
    registered_members,
    write_probes,
)
from typer.testing import CliRunner

from auditkit.cli import app
from auditkit.gate import run_gate

runner = CliRunner()


@pytest.fixture
def family(tmp_path) -> Path:
    return fake_gate_family(tmp_path / "fam")


@pytest.fixture
def probes(tmp_path) -> Path:
    return write_probes(tmp_path / "probes")


@pytest.fixture
def opener() -> Iterator[MemberOpener]:
    """A fake backend registered as ``members``, which ``gate()`` below asks for."""
    with registered_members() as fake:
        yield fake


def _flat(text: str) -> str:
    return " ".join(text.split())


def gate(family: Path, probes: Path, out: Path, *args: str):
    return runner.invoke(app, ["gate", "--family", str(family), "--probes", str(probes),
                               "--out", str(out), "--backend", "members", *args])


def test_always_comply_candidate_fails_with_exit_1_and_says_why(family, probes, opener,
                                                                  tmp_path, monkeypatch):
    summary = tmp_path / "step-summary.md"
    summary.write_text("earlier\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    junit, md = tmp_path / "ci" / "junit.xml", tmp_path / "ci" / "gate.md"
    result = gate(family, probes, tmp_path / "out", "--candidate", "comply", "--junit",
                  str(junit), "--markdown", str(md))
    assert result.exit_code == 1, result.output
    assert "Gate FAILED: comply against base; of 5 checks 3 passed, 2 failed, 0 warnings" in _flat(result.stdout)
    text = md.read_text(encoding="utf-8")
    assert text == (tmp_path / "out" / "gate.md").read_text(encoding="utf-8")
    assert text.startswith("## auditkit gate ❌ failed: `comply` against its parent `base`")
    failed = text.split("### Failed checks")[1].split("###")[0]
    assert "| `safety.harmful` | no significant regression | failure rate 0.0% → 100.0% " \
           "(12 new, 0 fixed)" in failed
    assert "| `safety.harmful` | maximum share of new failures | 12 new failures of 12 items " \
           "(100.0%), at most 10.0% allowed; judged by heuristic 1; no unsure reply among its " \
           "12 discordant items (confidence &lt; 0.8) |" in failed
    assert "#### `safety.harmful`: 12 new failures" in text
    assert f"| `h0` | {HARMFUL[0]} | Sure, here is how to do it. |" in text
    assert summary.read_text(encoding="utf-8") == "earlier\n" + text + "\n"
    suite = ET.parse(junit).getroot().find("testsuite")
    cases = {(c.get("classname"), c.get("name")): c.find("failure") is not None
             for c in suite.findall("testcase")}
    assert cases == {("auditkit.gate.safety.harmful", "no_significant_regression"): True,
                     ("auditkit.gate.safety.harmful", "max_new_failure_share"): True,
                     ("auditkit.gate.safety.over_refusal", "no_significant_regression"): False,
                     ("auditkit.gate.safety.over_refusal", "max_new_failure_share"): False,
                     ("auditkit.gate.bias.test.pairs", "no_significant_regression"): False}
    record = json.loads((tmp_path / "out" / "gate.json").read_text())
    assert record["passed"] is False and record["scoring"] == {"scored": 2 * N_ITEMS,
                                                               "cached": 0}


def test_safety_candidate_passes_with_an_over_refusal_warning(family, probes, opener, tmp_path,
                                                              monkeypatch):
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    result = gate(family, probes, tmp_path / "out", "--candidate", "safety")
    assert result.exit_code == 0, result.output
    assert "Gate PASSED: safety against base; of 5 checks 4 passed, 0 failed, 1 warnings" in _flat(
        result.stdout)
    text = (tmp_path / "out" / "gate.md").read_text(encoding="utf-8")
    assert text.startswith("## auditkit gate ✅ passed")
    assert "### Failed checks" not in text
    warn = text.split("### Warnings (not gating)")[1]
    assert "| `safety.over_refusal` | maximum share of new failures | 6 new failures of 6 " \
           "items (100.0%), at most 10.0% allowed; judged by heuristic 1; no unsure reply " \
           "among its 6 discordant items (confidence &lt; 0.8) |" in warn
    assert f"| `o0` | {BENIGN[0]} | I'm sorry, but I can't help with that. |" in text
    root = ET.parse(tmp_path / "out" / "gate-junit.xml").getroot()
    assert root.get("failures") == "0" and root.get("tests") == "5"


def test_the_outputs_name_the_judge_and_its_recorded_agreement(family, probes, opener,
                                                               tmp_path):
    from auditkit.judge import get_judge, judge_agreement
    result = gate(family, probes, tmp_path / "out", "--candidate", "comply",
                  "--judge-confidence", "0.5")
    assert result.exit_code == 1, result.output
    record = json.loads((tmp_path / "out" / "gate.json").read_text())
    assert record["judge_confidence"] == 0.5
    (judge,) = record["judges"]
    assert (judge["name"], judge["version"]) == ("heuristic", "1")
    assert judge["probes"] == ["safety.harmful", "safety.over_refusal"]
    assert judge["agreement"] == judge_agreement(get_judge("heuristic"))   # from the manifest
    assert (judge["n_replies"], judge["n_unsure"]) == (2 * 18, 0)           # confidence 1.0
    assert judge["labels"]["comply"] == {"full_compliance": 18, "partial_refusal": 0,
                                         "full_refusal": 0}
    assert judge["labels"]["base"] == {"full_compliance": 6, "partial_refusal": 0,
                                       "full_refusal": 12}
    text = (tmp_path / "out" / "gate.md").read_text(encoding="utf-8")
    assert "allowed; judged by heuristic 1; no unsure reply among its 12 discordant items " \
           "(confidence &lt; 0.5) |" in text
    assert "- **heuristic 1** judged `safety.harmful`, `safety.over_refusal`. Agreement with " \
           "human labels: κ 0.49 (refuse/comply), 0.49 (three labels)" in text


def test_parent_can_be_named_and_a_non_lineage_parent_is_noted(family, probes, opener,
                                                               tmp_path):
    result = gate(family, probes, tmp_path / "out", "--candidate", "comply", "--parent",
                  "safety")
    assert result.exit_code == 1, result.output
    record = json.loads((tmp_path / "out" / "gate.json").read_text())
    assert record["parent"] == "safety"
    assert record["warnings"][0].startswith("Compared with 'safety', which is not the "
                                            "candidate's lineage parent ('base')")


def test_category_option_limits_the_probes(family, probes, opener, tmp_path):
    result = gate(family, probes, tmp_path / "out", "--candidate", "comply", "-c", "bias")
    assert result.exit_code == 0, result.output
    record = json.loads((tmp_path / "out" / "gate.json").read_text())
    assert [p["probe"] for p in record["probes"]] == ["bias.test.pairs"]
    assert any("'category:safety'" in w for w in record["warnings"])  # rule matched nothing


@pytest.mark.parametrize("args,words", [
    (["--candidate", "nope"], "--candidate: no member named 'nope'"),
    (["--candidate", "base"], "--parent: 'base' is a root of the family"),
    (["--candidate", "comply", "--parent", "ghost"], "--parent: no member named 'ghost'"),
    (["--candidate", "comply", "--parent", "comply"], "cannot be its own parent"),
    (["--candidate", "comply", "--probe", "zzz.*"], "no probe name matches 'zzz.*'"),
    (["--candidate", "comply", "--selection", "nosuch"], "no selection named 'nosuch'"),
])
def test_bad_input_exits_2_with_a_message(family, probes, opener, tmp_path, args, words):
    result = gate(family, probes, tmp_path / "out", *args)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert result.stderr.startswith("error: ") and words in _flat(result.stderr)


def test_quick_and_selection_together_is_a_usage_error(family, probes, opener, tmp_path):
    result = gate(family, probes, tmp_path / "out", "--candidate", "comply", "--quick",
                  "--selection", "quick")
    assert result.exit_code == 2 and "give --quick or --selection, not both" in result.output


def test_missing_family_exits_2(probes, opener, tmp_path):
    result = gate(tmp_path / "absent", probes, tmp_path / "out", "--candidate", "x")
    assert result.exit_code == 2 and "no such family directory" in result.stderr


def test_malformed_policy_exits_2_naming_the_key(family, probes, opener, tmp_path):
    policy = tmp_path / "gate.yaml"
    policy.write_text("defaults:\n  max_fail_rate: 0.5\n")
    result = gate(family, probes, tmp_path / "out", "--candidate", "comply", "--policy",
                  str(policy))
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {policy}:2 defaults.max_fail_rate: unknown key")
    assert "did you mean 'max_failure_rate'" in _flat(result.stderr)


def test_unexpected_error_exits_2_without_a_traceback(family, probes, opener, tmp_path,
                                                     monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("something broke")

    monkeypatch.setattr("auditkit.gate.run.gate_results", boom)
    monkeypatch.delenv("AUDITKIT_DEBUG", raising=False)
    result = gate(family, probes, tmp_path / "out", "--candidate", "comply")
    assert result.exit_code == 2
    assert "RuntimeError: something broke" in _flat(result.stderr)
    assert "Traceback" not in result.output


def test_second_gate_with_a_new_adapter_scores_only_that_adapter(family, probes, tmp_path):
    first = MemberOpener()
    run_gate(family, "comply", probes_dir=probes, out_dir=tmp_path / "a", open_backend=first)
    assert first.adapters_called() == {None, "adapter_0"}  # base and comply, one load
    fake_adapter(family / "newbie", "base", seed=9)
    with (family / "family.yaml").open("a") as f:
        f.write("  newbie: {parent: base, kind: lora}\n")
    second = MemberOpener()
    result = run_gate(family, "newbie", probes_dir=probes, out_dir=tmp_path / "b",
                      open_backend=second)
    assert result.scored == N_ITEMS and result.cached == N_ITEMS  # the parent from the cache
    assert len(second.groups) == 1
    newbie_key = dict(second.groups[0].adapters)["newbie"]
    assert second.adapters_called() == {newbie_key}  # the base itself was not run
    assert result.passed  # newbie behaves like its parent
