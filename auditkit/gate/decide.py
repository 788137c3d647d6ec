"""The policy applied to the comparison: one verdict per (probe, check).

Each check kind (:mod:`auditkit.gate.checks`) is a function of the probe's comparison row and
its threshold; it says whether the probe passes, what was observed and, in words, why.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from auditkit.gate.checks import CheckContext, check_kind
from auditkit.gate.compare import Comparison
from auditkit.gate.policy import Policy, Severity


@dataclass(frozen=True)
class Verdict:
    """One check of one probe."""

    probe: str
    category: str
    rule: str                  # the check's key in the policy
    passed: bool
    severity: Severity
    observed: float            # the checked quantity (NaN when it is undefined)
    threshold: Any
    detail: str                # what was observed against what was allowed, in words

    @property
    def blocking(self) -> bool:
        """A failed check that fails the gate (a failed ``warn`` check does not)."""
        return not self.passed and self.severity == "fail"

    @property
    def title(self) -> str:
        return check_kind(self.rule).title


def decide(policy: Policy, comparison: Comparison) -> list[Verdict]:
    """Every active check of every probe in the comparison, probes in table order."""
    verdicts = []
    for _, row in comparison.table.iterrows():
        rules = policy.rules_for(row["probe"], row["category"])
        context = CheckContext(rules.alpha, comparison.correction)
        for key, threshold in rules.checks.items():
            outcome = check_kind(key).evaluate(row, threshold, context)
            verdicts.append(Verdict(row["probe"], row["category"], key, outcome.passed,
                                    rules.severity, outcome.observed, threshold,
                                    outcome.detail))
    return verdicts
