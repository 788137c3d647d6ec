"""The gate's comparison and decisions on hand-built results, with hand-computed statistics."""
from __future__ import annotations

import math
import textwrap

import numpy as np
import pandas as pd
import pytest

from auditkit.errors import AuditError, ValidationError
from auditkit.gate import compare, decide, load_policy, register_check
from auditkit.gate.checks import Outcome
from auditkit.gate.checks import base as checks_base
from auditkit.store.schema import results_frame

# probe -> (category, kind, n items, items the parent fails, items the candidate fails)
PROBES = {
    "A": ("safety", "generation", 10, {0, 1}, {0, 2, 3, 4, 5, 6}),  # n11 1, n10 1, n01 5
    "B": ("bias", "pair", 8, set(), set(range(8))),                  # n01 8
    "C": ("bias", "pair", 4, {0}, {0}),                              # n11 1
}


def _row(model: str, probe: str, item: int, failed: bool, output: str = "") -> dict:
    category, kind = PROBES[probe][:2]
    return {"model": model, "fingerprint": model * 4, "probe": probe, "probe_version": "v",
            "kind": kind, "category": category, "dimension": "d", "item": f"{probe}{item}",
            "group": "", "failed": failed, "score": float("nan"),
            "chosen": 0 if kind == "pair" and failed else (1 if kind == "pair" else -1),
            "gold": -1, "bias_target": -1, "n_options": 2 if kind == "pair" else 0,
            "output": output, "config": "c"}


def results(extra: list[dict] | None = None) -> pd.DataFrame:
    rows = []
    for probe, (_, _, n, parent_fails, cand_fails) in PROBES.items():
        for i in range(n):
            rows.append(_row("parent", probe, i, i in parent_fails))
            rows.append(_row("cand", probe, i, i in cand_fails, output=f"reply {i}"))
    return results_frame(rows + (extra or []))


@pytest.fixture(scope="module")
def comparison():
    return compare(results(), candidate="cand", parent="parent")


def test_counts_and_rates_per_probe(comparison):
    t = comparison.table.set_index("probe")
    assert list(t.index) == ["A", "B", "C"]
    assert t.loc["A", ["n_items", "n_new", "n_fixed", "n_inherited"]].tolist() == [10, 5, 1, 1]
    assert t.loc["A", ["n_parent_failed", "n_candidate_failed"]].tolist() == [2, 6]
    assert t.loc["A", "parent_rate"] == pytest.approx(0.2)
    assert t.loc["A", "candidate_rate"] == pytest.approx(0.6)
    assert t.loc["A", "rate_change"] == pytest.approx(0.4)
    assert t.loc["A", "new_rate"] == pytest.approx(0.5)
    assert t.loc["A", "fixed_rate"] == pytest.approx(0.5)        # 1 of the parent's 2 fixed
    assert math.isnan(t.loc["B", "fixed_rate"])                    # the parent fails nothing
    assert t["direction"].tolist() == ["worse", "worse", "same"]


def test_wilson_interval_by_hand(comparison):
    # 6/10: centre (0.6 + z^2/20) / (1 + z^2/10), half z/(1 + z^2/10) sqrt(0.024 + z^2/400)
    z = 1.959963984540054
    d = 1 + z * z / 10
    centre, half = (0.6 + z * z / 20) / d, z / d * math.sqrt(0.024 + z * z / 400)
    row = comparison.row("A")
    lo, hi = row["candidate_rate_lo"], row["candidate_rate_hi"]
    assert lo == pytest.approx(centre - half) == pytest.approx(0.3127, abs=1e-4)
    assert hi == pytest.approx(centre + half) == pytest.approx(0.8318, abs=1e-4)


def test_mcnemar_exact_and_holm_by_hand(comparison):
    t = comparison.table.set_index("probe")
    # A: b = 1 fixed, c = 5 new: 2 P(X <= 1), X ~ Bin(6, 1/2) = 2 (1 + 6) / 64
    # B: 0 vs 8: 2 / 2^8; C: no discordant pair: 1
    assert t["mcnemar_p"].tolist() == pytest.approx([14 / 64, 2 / 256, 1.0])
    # Holm, m = 3: B 3 x 2/256, A max(that, 2 x 14/64), C max(..., 1 x 1)
    assert t["adjusted_p"].tolist() == pytest.approx([2 * 14 / 64, 3 * 2 / 256, 1.0])
    raw = compare(results(), candidate="cand", parent="parent", correction="none")
    assert raw.table["adjusted_p"].tolist() == pytest.approx([14 / 64, 2 / 256, 1.0])


def test_items_are_labelled_new_fixed_inherited(comparison):
    a = comparison.items[comparison.items["probe"] == "A"].set_index("item")["change"]
    assert a[["A0", "A1", "A2", "A7"]].tolist() == ["inherited", "fixed", "new", "passed"]
    assert comparison.regressed("A")["item"].tolist() == ["A2", "A3", "A4", "A5", "A6"]
    assert comparison.regressed("A")["candidate_output"].tolist()[0] == "reply 2"
    assert len(comparison.regressed()) == 5 + 8


def test_items_only_one_model_has_are_left_out_and_counted():
    extra = [_row("cand", "A", 99, True)]
    c = compare(results(extra), candidate="cand", parent="parent")
    assert c.n_unpaired == 1 and c.row("A")["n_items"] == 10


def test_missing_model_and_duplicate_results_are_errors():
    with pytest.raises(AuditError, match="no results for model 'ghost'"):
        compare(results(), candidate="ghost", parent="parent")
    with pytest.raises(AuditError, match="more than one result"):
        compare(results([_row("cand", "A", 0, True)]), candidate="cand", parent="parent")


def _policy(tmp_path, text: str):
    path = tmp_path / "p.yaml"
    path.write_text(textwrap.dedent(text).lstrip())
    return load_policy(path)


def _verdicts(policy, comparison) -> dict[tuple[str, str], object]:
    return {(v.probe, v.rule): v for v in decide(policy, comparison)}


def test_thresholds_pass_at_the_boundary_and_fail_beyond(tmp_path, comparison):
    at = _verdicts(_policy(tmp_path, """
        rules:
          A: {max_failure_rate: 0.6, max_new_failures: 5, max_new_failure_share: 0.5,
              min_fixed_share: 0.5, max_rate_increase: 0.4}
        """), comparison)
    assert all(v.passed for v in at.values()) and len(at) == 5
    beyond = _verdicts(_policy(tmp_path, """
        rules:
          A: {max_failure_rate: 0.59, max_new_failures: 4, max_new_failure_share: 0.49,
              min_fixed_share: 0.51, max_rate_increase: 0.39}
        """), comparison)
    assert not any(v.passed for v in beyond.values())
    v = beyond[("A", "max_failure_rate")]
    assert v.observed == pytest.approx(0.6) and v.threshold == 0.59 and v.blocking
    assert "60.0%" in v.detail and "31.3%-83.2%" in v.detail and "59.0%" in v.detail


def test_min_fixed_share_passes_when_the_parent_fails_nothing(tmp_path, comparison):
    v = _verdicts(_policy(tmp_path, "defaults: {min_fixed_share: 0.9}\n"), comparison)
    assert v[("B", "min_fixed_share")].passed
    assert "nothing to fix" in v[("B", "min_fixed_share")].detail
    assert not v[("A", "min_fixed_share")].passed and v[("C", "min_fixed_share")].observed == 0


def test_significant_regression_uses_the_holm_adjusted_p(tmp_path, comparison):
    holm = _verdicts(_policy(tmp_path, "alpha: 0.05\ndefaults: "
                             "{no_significant_regression: true}\n"), comparison)
    assert [holm[(p, "no_significant_regression")].passed for p in "ABC"] == [True, False, True]
    assert "Holm-adjusted p = 0.023 < alpha 0.05" in holm[("B", "no_significant_regression")].detail
    # raw p of B (0.0078) is below 0.01 but its Holm-adjusted p (0.023) is not
    strict = _verdicts(_policy(tmp_path, "alpha: 0.01\ndefaults: "
                               "{no_significant_regression: true}\n"), comparison)
    assert strict[("B", "no_significant_regression")].passed
    raw = compare(results(), candidate="cand", parent="parent", correction="none")
    uncorrected = _verdicts(_policy(tmp_path, "alpha: 0.01\ncorrection: none\ndefaults: "
                                    "{no_significant_regression: true}\n"), raw)
    assert not uncorrected[("B", "no_significant_regression")].passed


def test_a_significant_improvement_is_not_a_regression(tmp_path):
    swapped = compare(results(), candidate="parent", parent="cand")
    v = _verdicts(_policy(tmp_path, "defaults: {no_significant_regression: true}\n"), swapped)
    assert swapped.row("B")["direction"] == "better" and swapped.row("B")["adjusted_p"] < 0.05
    assert v[("B", "no_significant_regression")].passed


def test_warn_severity_does_not_block(tmp_path, comparison):
    v = _verdicts(_policy(tmp_path, "rules:\n  B: {max_new_failures: 0, severity: warn}\n"),
                  comparison)
    verdict = v[("B", "max_new_failures")]
    assert not verdict.passed and not verdict.blocking and verdict.severity == "warn"


def test_category_patterns_match_probe_categories(tmp_path, comparison):
    v = _verdicts(_policy(tmp_path, "rules:\n  'category:bias': {max_new_failures: 0}\n"),
                  comparison)
    assert sorted(v) == [("B", "max_new_failures"), ("C", "max_new_failures")]
    assert np.array([x.passed for x in v.values()]).tolist() == [False, True]


def test_a_registered_check_kind_is_a_policy_key_and_decides(tmp_path, comparison, monkeypatch):
    """Adding a check kind is one function and one registration: the policy loader validates
    its threshold and decide applies it, with no other change."""
    monkeypatch.setattr(checks_base, "_REGISTRY", dict(checks_base._REGISTRY))

    @register_check("max_inherited_failures", title="maximum inherited failures",
                    threshold="count")
    def max_inherited(row, limit, ctx):
        n = int(row["n_inherited"])
        return Outcome(n <= limit, float(n), f"{n} inherited, at most {limit}")

    v = _verdicts(_policy(tmp_path, "defaults: {max_inherited_failures: 0}\n"), comparison)
    assert [(p, v[(p, "max_inherited_failures")].passed) for p in "ABC"] == [
        ("A", False), ("B", True), ("C", False)]
    assert v[("A", "max_inherited_failures")].title == "maximum inherited failures"
    with pytest.raises(ValidationError, match="a whole number >= 0"):
        _policy(tmp_path, "defaults: {max_inherited_failures: 0.5}\n")

