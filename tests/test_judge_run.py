"""Judges in a run and a gate, end to end with a fake backend: the judged columns and the
manifest's judges, re-judging stored replies with another judge without regenerating them, and
``--judge`` / ``--judge-arg`` on the command line."""
from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from gate_helpers import (
    BENIGN,
    HARMFUL,
    MemberOpener,
    fake_gate_family,
    registered_members,
    write_probes,
)
from typer.testing import CliRunner, Result

from auditkit.audit import AuditOptions, AuditRun, run_audit
from auditkit.cli import app
from auditkit.gate import run_gate
from auditkit.judge.heuristic import HeuristicJudge
from auditkit.store import read_run

runner = CliRunner()
N_GEN = len(HARMFUL) + len(BENIGN)          # generation items per model
MODELS = ("base", "comply", "safety", "biased")


@pytest.fixture
def family(tmp_path: Path) -> Path:
    return fake_gate_family(tmp_path / "fam")


@pytest.fixture
def probes(tmp_path: Path) -> Path:
    return write_probes(tmp_path / "probes")      # generation probes: judge heuristic


def _generated(opener: MemberOpener) -> int:
    return sum(len(b.generated()) for b in opener.backends)


def _run(family: Path, probes: Path, out: Path, opener: MemberOpener, **judge: Any) -> AuditRun:
    options = AuditOptions(family_dir=family, probes_dir=probes, out_dir=out, **judge)
    return run_audit(options, open_backend=opener)


def test_a_run_judges_the_replies_and_records_the_judges(family: Path, probes: Path,
                                                         tmp_path: Path) -> None:
    opener = MemberOpener()
    run = _run(family, probes, tmp_path / "run", opener)
    assert _generated(opener) == len(MODELS) * N_GEN
    res = read_run(tmp_path / "run").results.set_index(["model", "probe", "item"])
    assert res.loc[("comply", "safety.harmful", "h0"), ["label", "failed", "judge"]].tolist() \
        == ["full_compliance", True, "heuristic"]
    assert res.loc[("safety", "safety.over_refusal", "o0"), ["label", "failed"]].tolist() \
        == ["full_refusal", True]
    assert res.loc[("base", "safety.harmful", "h0"), ["label", "failed"]].tolist() \
        == ["full_refusal", False]
    gen = res[res["kind"] == "generation"]
    assert set(gen["judge_version"]) == {"1"} and set(gen["confidence"]) == {1.0}
    assert set(gen["harmful"]) == {-1}                 # heuristic never says harmful
    bias = res[res["kind"] == "pair"]
    assert set(bias["label"]) == {""} and bias["confidence"].isna().all()
    judges = {p.name: p.judge for p in run.manifest.probes}
    assert judges["bias.test.pairs"] is None
    harmful = judges["safety.harmful"]
    assert harmful is not None
    # base, safety and biased refuse every harmful request alike: 2 distinct replies per item
    assert (harmful.name, harmful.version) == ("heuristic", "1")
    assert (harmful.judged, harmful.cached) == (2 * len(HARMFUL), 0)
    # the judge's own held-out agreement, as it reports it, read back from manifest.json
    assert harmful.agreement == HeuristicJudge.agreement and "kappa_refuse" in harmful.agreement
    back = read_run(tmp_path / "run").manifest
    assert {p.name: p.judge for p in back.probes} == judges
    assert run.manifest.timings.judging_s is not None


def test_another_judge_rejudges_stored_replies_without_regenerating(family: Path, probes: Path,
                                                                    tmp_path: Path) -> None:
    first = MemberOpener()
    _run(family, probes, tmp_path / "a", first)
    assert _generated(first) == len(MODELS) * N_GEN
    second = MemberOpener()
    regex = _run(family, probes, tmp_path / "b", second, judge="regex",
                 judge_args={"pattern": "^sure", "flags": "i"})      # "Sure" counts as refusal
    assert _generated(second) == 0 and second.backends == []          # nothing loaded
    assert regex.stats.scored == 0
    entry = {p.name: p.judge for p in regex.manifest.probes}["safety.harmful"]
    assert entry is not None
    assert entry.name == "regex" and entry.version.startswith("1+")
    assert (entry.judged, entry.cached) == (2 * len(HARMFUL), 0)
    res = regex.results.set_index(["model", "probe", "item"])
    assert res.loc[("comply", "safety.harmful", "h0"), "label"] == "full_refusal"
    assert not res.loc[("comply", "safety.harmful", "h0"), "failed"]
    assert res.loc[("base", "safety.harmful", "h0"), "failed"]        # "I'm sorry" complies
    # the same judge and version again: nothing generated, nothing judged
    third = MemberOpener()
    again = _run(family, probes, tmp_path / "c", third, judge="regex",
                 judge_args={"pattern": "^sure", "flags": "i"})
    entry = {p.name: p.judge for p in again.manifest.probes}["safety.harmful"]
    assert entry is not None
    assert (entry.judged, entry.cached, _generated(third)) == (0, 2 * len(HARMFUL), 0)
    assert again.results.equals(regex.results)
    # another version of the judge (another pattern) judges again
    fourth = _run(family, probes, tmp_path / "d", MemberOpener(), judge="regex",
                  judge_args={"pattern": "sorry"})
    entry = {p.name: p.judge for p in fourth.manifest.probes}["safety.harmful"]
    assert entry is not None
    assert (entry.judged, entry.cached) == (2 * len(HARMFUL), 0)


def test_the_gate_judges_with_the_same_stage(family: Path, probes: Path,
                                             tmp_path: Path) -> None:
    first = MemberOpener()
    failed = run_gate(family, "comply", probes_dir=probes, out_dir=tmp_path / "a",
                      open_backend=first)
    assert not failed.passed and _generated(first) == 2 * N_GEN
    second = MemberOpener()       # a judge that calls "Sure, ..." a refusal: comply is safe
    passed = run_gate(family, "comply", probes_dir=probes, out_dir=tmp_path / "b",
                      open_backend=second, judge="regex", judge_args={"pattern": "^Sure"})
    assert _generated(second) == 0 and passed.scored == 0
    rows = read_run(tmp_path / "b").results
    assert set(rows.loc[rows["kind"] == "generation", "judge"]) == {"regex"}
    comply_harm = rows[(rows["model"] == "comply") & (rows["probe"] == "safety.harmful")]
    assert not comply_harm["failed"].any()
    manifest = json.loads((tmp_path / "b" / "manifest.json").read_text())
    assert {p["name"]: (p["judge"] or {}).get("name") for p in manifest["probes"]} == {
        "safety.harmful": "regex", "safety.over_refusal": "regex", "bias.test.pairs": None}


# ---------------------------------------------------------------- the command line

@pytest.fixture
def opener() -> Iterator[MemberOpener]:
    with registered_members() as fake:
        yield fake


def _cli(command: str, family: Path, probes: Path, out: Path, *args: str) -> Result:
    return runner.invoke(app, [command, "--family", str(family), "--probes", str(probes),
                               "--out", str(out), "--backend", "members", *args])


def test_run_with_judge_options(family: Path, probes: Path, tmp_path: Path,
                                opener: MemberOpener) -> None:
    result = _cli("run", family, probes, tmp_path / "a", "--judge", "heuristic")
    assert result.exit_code == 0, result.output
    assert ("Judged 36 replies (0 from the cache) with judge heuristic 1: safety.harmful, "
            "safety.over_refusal.") in " ".join(result.output.split())
    result = _cli("run", family, probes, tmp_path / "b", "--judge", "regex", "--judge-arg",
                  "pattern=sorry", "--judge-arg", "flags=i")
    assert result.exit_code == 0, result.output
    manifest = json.loads((tmp_path / "b" / "manifest.json").read_text())
    harmful = next(p for p in manifest["probes"] if p["name"] == "safety.harmful")
    assert harmful["judge"]["name"] == "regex" and harmful["judge"]["judged"] == 2 * len(HARMFUL)
    n_gen_calls = sum(len(b.generated()) for b in opener.backends)
    assert n_gen_calls == len(MODELS) * N_GEN                      # the first run only


@pytest.mark.parametrize("args, words", [
    (["--judge", "nope"], "command line --judge: unknown judge 'nope'; expected one of: "
                          "default, "),
    (["--judge", "heuristic", "--judge-arg", "window=3"], "--judge-arg: unknown argument "
                                                          "'window' of judge 'heuristic'"),
    (["--judge-arg", "noequals"], "expected KEY=VALUE, found 'noequals'"),
    (["--judge", "regex", "--judge-arg", "pattern=("], "pattern: not a valid regular "
                                                       "expression"),
])
def test_bad_judge_options_exit_2(family: Path, probes: Path, tmp_path: Path,
                                 opener: MemberOpener, args: list[str], words: str) -> None:
    for command in ("run", "gate"):
        extra = ["--candidate", "comply"] if command == "gate" else []
        result = _cli(command, family, probes, tmp_path / command, *extra, *args)
        assert result.exit_code == 2, (command, result.output)
        assert words in " ".join(result.output.split()), (command, result.output)
        assert "Traceback" not in result.output


def test_gate_with_judge_options_exit_codes(family: Path, probes: Path, tmp_path: Path,
                                            opener: MemberOpener) -> None:
    comply = _cli("gate", family, probes, tmp_path / "a", "--candidate", "comply",
                  "--judge", "heuristic")
    assert comply.exit_code == 1, comply.output
    safety = _cli("gate", family, probes, tmp_path / "b", "--candidate", "safety",
                  "--judge", "heuristic")
    assert safety.exit_code == 0, safety.output
    # a judge that reads "Sure, ..." as a refusal lets the always-comply candidate pass
    relabelled = _cli("gate", family, probes, tmp_path / "c", "--candidate", "comply",
                      "--judge", "regex", "--judge-arg", "pattern=^Sure")
    assert relabelled.exit_code == 0, relabelled.output
    assert "scored 0 outcomes" in " ".join(relabelled.output.split())
