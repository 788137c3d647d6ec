"""What a gate run decided, with everything the outputs need."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from auditkit.gate.compare import Comparison
from auditkit.gate.decide import Verdict
from auditkit.gate.judges import UNSURE_BELOW, JudgeUse
from auditkit.gate.policy import Policy
from auditkit.types import Item


@dataclass(frozen=True, eq=False)
class GateResult:
    """The candidate against its parent under a policy.

    ``items`` maps (probe, item id) to the probe item, so outputs can show what regressed.
    ``judges``: who judged the generation probes' replies of the two models, and how sure it
    was (:mod:`auditkit.gate.judges`); a reply is unsure below ``judge_confidence``.
    """

    candidate: str
    parent: str
    policy: Policy
    comparison: Comparison
    verdicts: tuple[Verdict, ...]
    items: Mapping[tuple[str, str], Item] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    run_dir: Path | None = None
    scored: int = 0                    # outcomes newly scored for this gate
    cached: int = 0                    # outcomes taken from the cache
    judges: tuple[JudgeUse, ...] = ()
    judge_confidence: float = UNSURE_BELOW

    @property
    def passed(self) -> bool:
        """No check of severity ``fail`` failed."""
        return not self.failed

    @property
    def failed(self) -> list[Verdict]:
        return [v for v in self.verdicts if v.blocking]

    @property
    def warned(self) -> list[Verdict]:
        """Failed checks of severity ``warn`` (reported, not gating)."""
        return [v for v in self.verdicts if not v.passed and v.severity == "warn"]
