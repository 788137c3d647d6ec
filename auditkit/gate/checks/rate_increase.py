"""``max_rate_increase``: the candidate's failure rate may rise by at most so many points."""
from __future__ import annotations

import pandas as pd

from auditkit.gate.checks.base import CheckContext, Outcome, rates_text, register_check
from auditkit.present import points


@register_check("max_rate_increase", title="maximum failure-rate increase", threshold="rate")
def max_rate_increase(row: pd.Series, limit: float, ctx: CheckContext) -> Outcome:
    change = float(row["rate_change"])
    # 1e-12: a rate difference computed in floating point may overshoot an equal limit
    return Outcome(change <= limit + 1e-12, change, (
        f"{rates_text(row)} ({points(change)}), at most {points(limit)} allowed"))
