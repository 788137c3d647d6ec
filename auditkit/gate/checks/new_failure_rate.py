"""``max_new_failure_share``: at most this share of the items may newly fail."""
from __future__ import annotations

import pandas as pd

from auditkit.gate.checks.base import CheckContext, Outcome, register_check
from auditkit.present import pct


@register_check("max_new_failure_share", title="maximum share of new failures",
                threshold="rate")
def max_new_failure_share(row: pd.Series, limit: float, ctx: CheckContext) -> Outcome:
    rate = float(row["new_rate"])
    return Outcome(rate <= limit + 1e-12, rate, (
        f"{row['n_new']} new failures of {row['n_items']} items ({pct(rate, 1)}), at most "
        f"{pct(limit, 1)} allowed"))
