"""The gate's ``native`` check: policy language and decisions on benchmark probes."""
from __future__ import annotations

import math
from pathlib import Path

import pytest
from native_helpers import pair, probe, results, rows

from auditkit.analyze.native import item_table
from auditkit.errors import ValidationError
from auditkit.gate.evaluate import gate_results
from auditkit.gate.policy import Policy, load_policy

CROWS = probe("crows_pairs", [pair(j, "gender") for j in range(10)], name="bias.crows_pairs")
# parent: 5 of 10 pairs prefer the stereotype (0.5); candidate: 9 of 10 (0.9)
RESULTS = results(rows("parent", CROWS, score=[1.0] * 5 + [-1.0] * 5),
                  rows("cand", CROWS, score=[1.0] * 9 + [-1.0]))


def _policy(tmp_path: Path, native: str) -> Policy:
    path = tmp_path / "policy.yaml"
    path.write_text(f'rules:\n  "bias.crows*":\n    native: {native}\n')
    return load_policy(path)


def _verdict(policy: Policy, items=None):
    result = gate_results(RESULTS, candidate="cand", parent="parent", policy=policy,
                          items=item_table([CROWS]) if items is None else items)
    (verdict,) = [v for v in result.verdicts if v.rule == "native"]
    return verdict


def test_a_ceiling_on_the_candidates_value(tmp_path: Path) -> None:
    v = _verdict(_policy(tmp_path, "{crows_pairs.stereotype_score: {max: 0.8}}"))
    assert not v.passed and v.observed == pytest.approx(0.9)
    assert "crows_pairs.stereotype_score 0.5 → 0.9" in v.detail and "mcnemar" in v.detail
    assert v.blocking


def test_a_limit_on_the_change_from_the_parent(tmp_path: Path) -> None:
    passed = _verdict(_policy(tmp_path, "{crows_pairs.stereotype_score: {max_increase: 0.5}}"))
    assert passed.passed and passed.observed == pytest.approx(0.9)
    failed = _verdict(_policy(tmp_path, "{crows_pairs.stereotype_score: {max_increase: 0.3, "
                                        "min: 0.1}}"))
    assert not failed.passed and failed.observed == pytest.approx(0.4)   # the change


def test_a_metric_of_another_benchmark_does_not_apply(tmp_path: Path) -> None:
    v = _verdict(_policy(tmp_path, "{bbq.bias_score_ambig: {max: 0.0}}"))
    assert v.passed and math.isnan(v.observed)
    assert "applies to this probe" in v.detail


def test_without_item_attributes_the_check_fails(tmp_path: Path) -> None:
    policy = _policy(tmp_path, "{crows_pairs.stereotype_score: {max: 1.0}}")
    result = gate_results(RESULTS, candidate="cand", parent="parent", policy=policy)
    (v,) = [v for v in result.verdicts if v.rule == "native"]
    assert not v.passed and "not computed" in v.detail


@pytest.mark.parametrize(("native", "message"), [
    ("{crows_pairs.stereotype_scor: {max: 0.5}}", "native metric names"),
    ("{crows_pairs.stereotype_score: {maximum: 0.5}}", "max, min, max_increase"),
    ("{crows_pairs.stereotype_score: {max: high}}", "numbers"),
    ("0.5", "benchmark.metric"),
])
def test_the_policy_loader_rejects_malformed_native_limits(tmp_path: Path, native: str,
                                                           message: str) -> None:
    with pytest.raises(ValidationError) as err:
        _policy(tmp_path, native)
    assert message in str(err.value) and "native" in str(err.value)
