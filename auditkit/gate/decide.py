"""The policy applied to the comparison: one verdict per (probe, check).

Each check kind (:mod:`auditkit.gate.checks`) is a function of the probe's comparison row and
its threshold; it says whether the probe passes, what was observed and, in words, why.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from auditkit.gate.checks import CheckContext, check_kind
from auditkit.gate.compare import Comparison
from auditkit.gate.judges import judged_by
from auditkit.gate.policy import Policy, Severity
from auditkit.gate.robust import Unsure


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
    judge: str = ""            # generation probes: who judged the replies (JudgeRef.label)
    unsure: Unsure | None = None   # a failed check on a generation probe: its unsure replies

    @property
    def explained(self) -> str:
        """The detail, then who judged the replies and, for a failed check, whether it rests
        on replies the judge is unsure about (:mod:`auditkit.gate.robust`)."""
        notes = [judged_by(self.judge)] if self.judge else []
        notes += [self.unsure.text] if self.unsure is not None else []
        return "; ".join([self.detail, *notes])

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
        context = CheckContext(rules.alpha, comparison.correction,
                               native=comparison.native_rows(row["probe"]))
        for key, threshold in rules.checks.items():
            outcome = check_kind(key).evaluate(row, threshold, context)
            verdicts.append(Verdict(row["probe"], row["category"], key, outcome.passed,
                                    rules.severity, outcome.observed, threshold,
                                    outcome.detail))
    return verdicts
