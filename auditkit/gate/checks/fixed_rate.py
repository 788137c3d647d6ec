"""``min_fixed_share``: the candidate must fix at least this share of the parent's failures."""
from __future__ import annotations

import math

import pandas as pd

from auditkit.gate.checks.base import CheckContext, Outcome, register_check
from auditkit.present import pct


@register_check("min_fixed_share", title="minimum share of the parent's failures fixed",
                threshold="rate")
def min_fixed_share(row: pd.Series, minimum: float, ctx: CheckContext) -> Outcome:
    rate = float(row["fixed_rate"])
    if math.isnan(rate):
        return Outcome(True, rate, "the parent fails no item, so there is nothing to fix")
    return Outcome(rate >= minimum - 1e-12, rate, (
        f"fixed {row['n_fixed']} of the parent's {row['n_parent_failed']} failures "
        f"({pct(rate, 1)}), at least {pct(minimum, 1)} required"))
