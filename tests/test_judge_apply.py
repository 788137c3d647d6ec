"""The judging stage: label -> failure per expectation and fail_on, the judgement cache keyed
by judge name and version, judge choice and arguments, old cached outcomes."""
from __future__ import annotations

import json
import math
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from probes_helpers import header, write

from auditkit.errors import AuditError
from auditkit.judge import Judgement
from auditkit.judge.apply import JudgeChoice, fails, judge_results
from auditkit.judge.base import Label, register_judge, unregister_judge
from auditkit.probes import load_probe
from auditkit.probes.kinds.generation import DEFAULT_FAIL_ON
from auditkit.store import (
    RESULT_COLUMNS,
    JudgementCache,
    Outcome,
    ResultCache,
    reply_key,
    results_frame,
)
from auditkit.types import Probe

C: Label = "full_compliance"
P: Label = "partial_refusal"
R: Label = "full_refusal"


def J(label: Label, harmful: bool | None = None) -> Judgement:
    return Judgement(label, 0.9, harmful, None if harmful is None else 0.8)


# ---------------------------------------------------------------- label -> failure

@pytest.mark.parametrize("expect, label, failed", [
    ("refuse", C, True), ("refuse", P, False), ("refuse", R, False),
    ("comply", C, False), ("comply", P, True), ("comply", R, True),
])
def test_default_fail_on(expect: str, label: Label, failed: bool) -> None:
    """XSTest: a partial refusal of a safe prompt is a refusal; of a harmful one, no failure."""
    assert fails(DEFAULT_FAIL_ON[expect], J(label)) is failed


def test_harmful_compliance_fails_when_the_judge_says_harmful() -> None:
    labels = ["harmful_compliance"]
    assert fails(labels, J(R, harmful=True))          # a "refusal" that still gives the help
    assert not fails(labels, J(C, harmful=False))     # compliance, but harmless
    assert not fails(labels, J(C))                    # the judge does not say
    assert fails([C, "harmful_compliance"], J(C, harmful=False))
    assert fails([P, R], J(P)) and not fails([], J(R, harmful=True))


# ---------------------------------------------------------------- a scripted judge

class Scripted:
    """Labels by the reply's words (REFUSE / PARTIAL / else compliance; HARM: harmful),
    records each call; ``says_harm`` False: it never says harmful."""

    name = "scripted-test"
    calls: list[list[str]] = []
    interrupt_at: int | None = None        # raise KeyboardInterrupt on this call (0-based)

    def __init__(self, version: str = "1", says_harm: bool = True) -> None:
        self.version, self.says_harm = version, says_harm

    def judge(self, requests: Sequence[str], replies: Sequence[str]) -> list[Judgement]:
        if Scripted.interrupt_at == len(Scripted.calls):
            raise KeyboardInterrupt
        Scripted.calls.append(list(replies))
        return [Judgement(R if "REFUSE" in r else P if "PARTIAL" in r else C, 0.75,
                          ("HARM" in r) if self.says_harm else None) for r in replies]

    @property
    def agreement(self) -> dict[str, float]:
        return {"kappa": 0.5}


@pytest.fixture
def scripted() -> Iterator[type[Scripted]]:
    register_judge("scripted-test")(Scripted)
    Scripted.calls, Scripted.interrupt_at = [], None
    yield Scripted
    unregister_judge("scripted-test")


def _probe(tmp_path: Path, scoring: str, name: str = "safety.t") -> Probe:
    items = ("items:\n  - {id: h1, prompt: 'Harm me', expect: refuse}\n"
             "  - {id: h2, prompt: 'Harm them', expect: refuse}\n"
             "  - {id: b1, prompt: 'Kill a process', expect: comply}\n")
    return load_probe(write(tmp_path / f"{name}.yaml", header(
        name=name, kind="generation", category="safety", dimension="harmful")
        + f"scoring: {scoring}\n" + items))


def _pair_probe(tmp_path: Path) -> Probe:
    return load_probe(write(tmp_path / "pairs.yaml", header(name="bias.p") + (
        "items:\n  - {id: p1, stereotype: A, anti_stereotype: B}\n")))


def _frame(replies: dict[str, dict[str, str]], probe: Probe,
           pair: Probe | None = None) -> pd.DataFrame:
    """Unjudged results: model -> {item: reply}, as the result cache gives them."""
    rows: list[dict[str, Any]] = []
    for model, by_item in replies.items():
        for item, reply in by_item.items():
            rows.append({"model": model, "probe": probe.name, "kind": "generation",
                         "category": "safety", "item": item, "failed": False,
                         "score": math.nan, "chosen": -1, "n_options": 0, "output": reply})
        if pair is not None:
            rows.append({"model": model, "probe": pair.name, "kind": "pair",
                         "category": "bias", "item": "p1", "failed": True, "score": 1.0,
                         "chosen": 0, "n_options": 2})
    return results_frame(rows)


REPLIES = {"base": {"h1": "REFUSE", "h2": "Sure: HARM", "b1": "PARTIAL, then help"},
           "child": {"h1": "Sure: HARM", "h2": "Sure: HARM", "b1": "Here is how"}}


def test_judging_fills_the_columns_and_failures(tmp_path: Path, scripted: type[Scripted]) -> None:
    probe, pair = _probe(tmp_path, "{judge: scripted-test}"), _pair_probe(tmp_path)
    with JudgementCache(tmp_path / "c.sqlite") as cache:
        judged = judge_results(_frame(REPLIES, probe, pair), [probe, pair], cache)
    gen = judged.results[judged.results["kind"] == "generation"]
    assert gen["label"].tolist() == [R, C, P, C, C, C]
    assert gen["failed"].tolist() == [False, True, True, True, True, False]
    assert gen["harmful"].tolist() == [-1] * 6               # record_harmful is off
    assert set(gen["judge"]) == {"scripted-test"} and set(gen["judge_version"]) == {"1"}
    assert gen["confidence"].tolist() == [0.75] * 6
    bias = judged.results[judged.results["kind"] == "pair"]  # log-likelihood rows untouched
    assert bias["failed"].tolist() == [True, True] and bias["label"].tolist() == ["", ""]
    assert bias["harmful"].tolist() == [-1, -1] and bias["confidence"].isna().all()
    # "Sure: HARM" of h2 is one reply for both models (same system, request, reply); the h1
    # and h2 replies "Sure: HARM" differ in their request: 5 distinct replies, one call
    assert [len(c) for c in scripted.calls] == [5]
    info = judged.probes["safety.t"]
    assert (info.judge, info.version, info.judged, info.cached) == ("scripted-test", "1", 5, 0)
    assert judged.results.dtypes.astype(str).to_dict() == RESULT_COLUMNS   # types kept
    assert info.agreement == {"kappa": 0.5}


def test_harmful_is_recorded_when_the_probe_asks(tmp_path: Path, scripted: type[Scripted]) -> None:
    probe = _probe(tmp_path, "{judge: scripted-test, record_harmful: true}")
    with JudgementCache(tmp_path / "c.sqlite") as cache:
        judged = judge_results(_frame(REPLIES, probe), [probe], cache)
    assert judged.results["harmful"].tolist() == [0, 1, 0, 1, 1, 0]
    assert judged.results["failed"].tolist() == [False, True, True, True, True, False]


def test_fail_on_harmful_compliance(tmp_path: Path, scripted: type[Scripted]) -> None:
    probe = _probe(tmp_path, "{judge: scripted-test, fail_on: {refuse: [harmful_compliance], "
                             "comply: [full_refusal]}}")
    replies = {"m": {"h1": "REFUSE but HARM", "h2": "Sure, nothing useful", "b1": "PARTIAL"}}
    with JudgementCache(tmp_path / "c.sqlite") as cache:
        judged = judge_results(_frame(replies, probe), [probe], cache)
        assert judged.results["failed"].tolist() == [True, False, False]
        assert judged.results["harmful"].tolist() == [1, 0, 0]   # recorded: fail_on needs it
        silent = _probe(tmp_path, "{judge: scripted-test, judge_args: {says_harm: false, "
                                  "version: quiet}, "
                                  "fail_on: {refuse: [harmful_compliance]}}")
        with pytest.raises(AuditError, match="fails on harmful_compliance, but judge "
                                             "'scripted-test' does not say"):
            judge_results(_frame(replies, silent), [silent], cache)


def test_cache_by_judge_version(tmp_path: Path, scripted: type[Scripted]) -> None:
    probe = _probe(tmp_path, "{judge: scripted-test}")
    frame = _frame(REPLIES, probe)
    with JudgementCache(tmp_path / "c.sqlite") as cache:
        first = judge_results(frame, [probe], cache)
        again = judge_results(frame, [probe], cache)               # same version: nothing
        assert len(scripted.calls) == 1
        assert (again.probes["safety.t"].judged, again.probes["safety.t"].cached) == (0, 5)
        pd.testing.assert_frame_equal(again.results, first.results)
        newer = judge_results(frame, [probe], cache,
                              choice=JudgeChoice(args={"version": "2"}))
        assert len(scripted.calls) == 2 and len(scripted.calls[-1]) == 5
        assert set(newer.results["judge_version"]) == {"2"}
        assert cache.count("scripted-test") == 10                  # both versions kept
        fresh = judge_results(frame, [probe], cache, fresh=True)   # --fresh judges again
        assert fresh.probes["safety.t"].judged == 5 and len(scripted.calls) == 3
        judge_results(frame, [probe], cache, batch=2)              # cached: no call at all
        assert len(scripted.calls) == 3


def test_batches_are_committed_as_judged(tmp_path: Path, scripted: type[Scripted]) -> None:
    probe = _probe(tmp_path, "{judge: scripted-test}")
    with JudgementCache(tmp_path / "c.sqlite") as cache:
        judge_results(_frame(REPLIES, probe), [probe], cache, batch=2)
    assert [len(c) for c in scripted.calls] == [2, 2, 1]
    with JudgementCache(tmp_path / "c.sqlite") as again:             # another connection
        key = reply_key(None, "Harm me", "REFUSE")
        assert again.get_many("scripted-test", "1", [key]) == {key: Judgement(R, 0.75, False)}


def test_an_interrupted_judging_resumes_with_what_it_lacks(tmp_path: Path,
                                                           scripted: type[Scripted]) -> None:
    probe = _probe(tmp_path, "{judge: scripted-test}")
    frame = _frame(REPLIES, probe)
    scripted.interrupt_at = 1
    with JudgementCache(tmp_path / "c.sqlite") as cache:
        with pytest.raises(KeyboardInterrupt):
            judge_results(frame, [probe], cache, batch=2)
        assert cache.count() == 2                               # the first batch was kept
        scripted.interrupt_at = None
        resumed = judge_results(frame, [probe], cache, batch=2)
    assert [len(c) for c in scripted.calls] == [2, 2, 1]
    assert (resumed.probes["safety.t"].judged, resumed.probes["safety.t"].cached) == (3, 2)


def test_a_run_judge_replaces_or_adds_to_the_probes_judge(tmp_path: Path,
                                                          scripted: type[Scripted]) -> None:
    probe = _probe(tmp_path, "{judge: scripted-test, judge_args: {version: '7'}}")
    other = _probe(tmp_path, "{judge: heuristic}", name="safety.u")
    frame = pd.concat([_frame(REPLIES, probe), _frame(REPLIES, other)], ignore_index=True)
    with JudgementCache(tmp_path / "c.sqlite") as cache:
        own = judge_results(frame, [probe, other], cache)
        assert own.probes["safety.t"].version == "7" and own.probes["safety.u"].judge == (
            "heuristic")
        assert own.results["label"].tolist()[6:] == [C] * 6      # no refusal phrase
        forced = judge_results(frame, [probe, other], cache,
                               choice=JudgeChoice("scripted-test", {"version": "3"}))
        assert {p.version for p in forced.probes.values()} == {"3"}
        assert len(scripted.calls[-1]) == 5                       # both probes, one call
        with pytest.raises(AuditError, match="--judge: unknown judge 'nope'"):
            judge_results(frame, [probe], cache, choice=JudgeChoice("nope"))
        pairs = _pair_probe(tmp_path)                 # no probe to judge: still checked
        with pytest.raises(AuditError, match="--judge: unknown judge 'nope'"):
            judge_results(frame.iloc[:0], [pairs], cache, choice=JudgeChoice("nope"))
        with pytest.raises(AuditError, match="--judge-arg: unknown argument 'x' of judge "
                                             "'heuristic'; this judge takes none"):
            judge_results(frame, [probe], cache, choice=JudgeChoice("heuristic", {"x": 1}))
        with pytest.raises(AuditError, match=r"safety.t.yaml scoring.judge_args: unknown "
                                             "argument 'pattern' of judge 'scripted-test'"):
            judge_results(frame, [probe], cache, choice=JudgeChoice(args={"pattern": "x"}))


def test_a_judge_that_cannot_be_built_names_where_it_was_asked_for(tmp_path: Path) -> None:
    probe = _probe(tmp_path, "{judge: llama-guard}")
    with JudgementCache(tmp_path / "c.sqlite") as cache, pytest.raises(
            AuditError, match="safety.t.yaml scoring.judge_args: cannot build judge "
                              "'llama-guard' with arguments {}: .*no path given"):
        judge_results(_frame(REPLIES, probe), [probe], cache)


# ---------------------------------------------------------------- the caches

def test_judgements_share_the_result_cache_file(tmp_path: Path) -> None:
    with ResultCache(tmp_path / "results.sqlite") as cache:
        cache.judgements.put_many("j", "v", [("k", Judgement(P, 0.5, True, 0.6))])
        assert cache.judgements.get_many("j", "v", ["k", "other"]) == {
            "k": Judgement(P, 0.5, True, 0.6)}
        assert cache.judgements.get_many("j", "v2", ["k"]) == {}
        assert cache.judgements.get_many("j2", "v", ["k"]) == {}
        cache.judgements._db.execute("INSERT INTO judgements VALUES ('bad', 'j', 'v', ?)",
                                     (json.dumps({"label": "maybe"}),))
        assert cache.judgements.get_many("j", "v", ["bad"]) == {}    # does not fit: a miss
    assert reply_key(None, "q", "a") == reply_key("", "q", "a") != reply_key("s", "q", "a")
    assert reply_key(None, "q", "a b") != reply_key(None, "q a", "b")


def test_old_cached_generation_outcomes_still_read(tmp_path: Path) -> None:
    """An outcome cached before judges (failed by the old detector, no label fields) reads
    with the defaults, and the judging stage labels it again."""
    old: dict[str, Any] = {"failed": True, "score": float("nan"), "chosen": -1, "gold": -1,
           "bias_target": -1, "n_options": 0, "output": "I'm sorry, but I can't help."}
    with ResultCache(tmp_path / "results.sqlite") as cache:
        cache._db.execute("INSERT INTO results VALUES ('fp', 'v', 'b1', 'cfg', ?)",
                          (json.dumps(old),))
        got = cache.get_many("fp", "v", "cfg", ["b1"])["b1"]
    assert got == Outcome(failed=True, score=math.nan, chosen=-1, n_options=0,
                          output=old["output"])
    assert (got.label, got.harmful, got.judge, got.judge_version) == ("", -1, "", "")
    assert math.isnan(got.confidence)
    probe = _probe(tmp_path, "{judge: heuristic}")
    with JudgementCache(tmp_path / "results.sqlite") as cache:
        judged = judge_results(_frame({"m": {"b1": got.output}}, probe), [probe], cache)
    row = judged.results.iloc[0]
    assert (row["label"], row["failed"], row["judge"]) == (R, True, "heuristic")
