"""The report's "do not ship" list is the gate's decision: one comparison, one policy.

On a simulated run, the list in summary.json equals what the gate decides for every parent and
child of the run (reasons included), under the default policy and under policies given with
``auditkit report --policy``. End to end, ``auditkit report`` on a gate's run directory lists
the candidate exactly when ``auditkit gate`` failed it.
"""
from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from gate_helpers import MemberOpener, fake_gate_family, registered_members, write_probes
from report_helpers import make_run
from typer.testing import CliRunner

from auditkit.analyze.simulate_run import SimProbe
from auditkit.cli import app
from auditkit.gate import compare, gate_results, load_policy
from auditkit.report.load import read_analysis
from auditkit.store import read_run

runner = CliRunner()

PROBES = (SimProbe("safety.harmful.refusal", "generation", "safety", "harmful", 40),
          SimProbe("bias.gender.pairs", "pair", "bias", "gender", 40))
ONLY_REGRESSION = "name: regression only\ndefaults: {no_significant_regression: true}\n"
CEILING = ("name: ceiling\ndefaults: {max_failure_rate: 0.4}\n"
           "rules:\n  'safety.*': {severity: warn}\n")


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    """base -> chat, code, med; chat -> chat-v2, chat-lora; med -> med-lora. chat newly fails
    60% of the items its parent passes on every probe; its children inherit that (95%)."""
    return make_run(tmp_path_factory.mktemp("ship") / "run", probes=PROBES, inject=False,
                    root_rate=0.2, inherit=0.95, introduce={"chat": 0.6}, seed=3)


def _report(run_dir: Path, tmp_path: Path, policy: str | None) -> tuple[dict, Path | None]:
    copy = shutil.copytree(run_dir, tmp_path / "run")
    args, path = [], None
    if policy is not None:
        path = tmp_path / "policy.yaml"
        path.write_text(policy)
        args = ["--policy", str(path)]
    result = runner.invoke(app, ["report", str(copy), *args])
    assert result.exit_code == 0, result.output
    return json.loads((copy / "summary.json").read_text()), path


def _gate_decisions(run_dir: Path, policy_path: Path | None) -> dict[str, list[str]]:
    """child -> the blocking checks the gate's decision gives against its parent (in words)."""
    run, policy = read_run(run_dir), load_policy(policy_path)
    decisions = {}
    for parent, child in run.lineage.edges():
        gate = gate_results(run.results, candidate=child, parent=parent, policy=policy,
                            manifest=run.manifest)
        decisions[child] = [f"{v.probe}, {v.title}: {v.explained}" for v in gate.failed]
    return decisions


def test_the_gates_comparison_is_the_analysis_edge_at_probe_level(run):
    """One paired 2x2 table per parent, child and probe: the gate's counts and McNemar tests
    (Holm across the probes of the comparison) are the analysis' probe-level edge rows."""
    data, edges = read_run(run), read_analysis(run).edges
    edges = edges[edges["level"] == "probe"].set_index(["parent", "child", "scope"])
    for parent, child in data.lineage.edges():
        table = compare(data.results, candidate=child, parent=parent).table
        for row in table.itertuples():
            edge = edges.loc[(parent, child, row.probe)]
            assert (row.n_inherited, row.n_new, row.n_fixed) == (edge.n11, edge.n01, edge.n10)
            assert row.n_items == edge.n_items
            assert row.mcnemar_p == pytest.approx(edge.mcnemar_p, rel=1e-12)
            assert row.adjusted_p == pytest.approx(edge.mcnemar_p_holm, rel=1e-12)
            assert row.fixed_rate == pytest.approx(edge.fixed_rate, rel=1e-12, nan_ok=True)


@pytest.mark.parametrize("policy, truth", [
    (None, None),
    (ONLY_REGRESSION, {"chat"}),                              # only chat regresses
    (CEILING, {"chat", "chat-v2", "chat-lora"}),             # chat's children inherit its rate
])
def test_do_not_ship_is_the_gates_decision(run, tmp_path, policy, truth):
    summary, path = _report(run, tmp_path, policy)
    verdict = summary["verdict"]
    listed = {f["model"]: f["reasons"] for f in verdict["do_not_ship"]}
    gate = {child: reasons for child, reasons in _gate_decisions(run, path).items() if reasons}
    assert listed == gate and "chat" in listed
    if truth is not None:
        assert set(listed) == truth
    assert verdict["not_gated"] == ["base"]
    assert {f["model"]: f["parent"] for f in verdict["do_not_ship"]}["chat"] == "base"
    assert verdict["policy"]["path"] == (None if path is None else str(path))
    assert verdict["policy"]["name"] == ("auditkit default" if path is None else
                                         policy.split("\n")[0].removeprefix("name: "))


def test_warn_checks_are_listed_apart(run, tmp_path):
    summary, _ = _report(run, tmp_path, CEILING)
    warned = {f["model"] for f in summary["verdict"]["warnings"]}
    # chat fails the ceiling on safety too (a warning) and on bias (blocking)
    assert "chat" in warned and "chat" in {f["model"] for f in summary["verdict"]["do_not_ship"]}
    assert all("safety.harmful.refusal, maximum failure rate" in r
               for f in summary["verdict"]["warnings"] for r in f["reasons"])


# ---------------------------------------------------------------- end to end: gate, then report

@pytest.fixture
def members() -> Iterator[MemberOpener]:
    with registered_members("report-members") as fake:
        yield fake


@pytest.mark.parametrize("candidate, exit_code, warned", [
    ("comply", 1, []),             # newly answers every harmful request
    ("safety", 0, ["safety"]),     # newly refuses benign prompts: a warning only
])
def test_report_on_a_gate_run_agrees_with_the_gate(tmp_path, members, monkeypatch, candidate,
                                                   exit_code, warned):
    monkeypatch.setenv("AUDITKIT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    family = fake_gate_family(tmp_path / "fam")
    probes = write_probes(tmp_path / "probes")
    out = tmp_path / "out"
    gated = runner.invoke(app, ["gate", "--family", str(family), "--probes", str(probes),
                                "--out", str(out), "--backend", "report-members",
                                "--candidate", candidate])
    assert gated.exit_code == exit_code, gated.output
    record = json.loads((out / "gate.json").read_text())
    reported = runner.invoke(app, ["report", str(out)])
    assert reported.exit_code == 0, reported.output
    verdict = json.loads((out / "summary.json").read_text())["verdict"]
    listed = [f["model"] for f in verdict["do_not_ship"]]
    assert listed == ([] if record["passed"] else [candidate])
    assert [f["model"] for f in verdict["warnings"]] == warned
    failed = [f"{v['probe']}, " for v in record["verdicts"]
              if not v["passed"] and v["severity"] == "fail"]
    reasons = [r for f in verdict["do_not_ship"] for r in f["reasons"]]
    assert [r.split(",")[0] + ", " for r in reasons] == failed
