"""``max_failure_rate``: an absolute ceiling on the candidate's failure rate."""
from __future__ import annotations

import pandas as pd

from auditkit.gate.checks.base import CheckContext, Outcome, register_check
from auditkit.present import pct


@register_check("max_failure_rate", title="maximum failure rate", threshold="rate")
def max_failure_rate(row: pd.Series, limit: float, ctx: CheckContext) -> Outcome:
    rate = float(row["candidate_rate"])
    return Outcome(rate <= limit, rate, (
        f"failure rate {pct(rate, 1)} (95% CI {pct(row['candidate_rate_lo'], 1)}"
        f"-{pct(row['candidate_rate_hi'], 1)}), at most {pct(limit, 1)} allowed"))
