"""``max_new_failures``: at most so many items the parent passes may the candidate fail."""
from __future__ import annotations

import pandas as pd

from auditkit.gate.checks.base import CheckContext, Outcome, register_check


@register_check("max_new_failures", title="maximum new failures", threshold="count")
def max_new_failures(row: pd.Series, limit: int, ctx: CheckContext) -> Outcome:
    n_new = int(row["n_new"])
    return Outcome(n_new <= limit, float(n_new), (
        f"{n_new} new failures of {row['n_items']} items, at most {limit} allowed"))
