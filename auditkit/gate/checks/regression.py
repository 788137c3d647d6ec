"""``no_significant_regression``: McNemar's exact test of new against fixed failures."""
from __future__ import annotations

import pandas as pd

from auditkit.gate.checks.base import CheckContext, Outcome, rates_text, register_check
from auditkit.present import pval


@register_check("no_significant_regression", title="no significant regression",
                threshold="flag")
def no_significant_regression(row: pd.Series, flag: bool, ctx: CheckContext) -> Outcome:
    """Fails when the candidate fails more items than it fixes and McNemar's exact p, adjusted
    across probes (Holm 1979, unless the policy says ``correction: none``), is below alpha."""
    p = float(row["adjusted_p"])
    worse = row["direction"] == "worse"
    label = "Holm-adjusted p" if ctx.correction == "holm" else "p"
    verdict = "<" if p < ctx.alpha else ">="
    detail = (f"{rates_text(row)} ({row['n_new']} new, {row['n_fixed']} fixed); McNemar exact "
              f"p = {pval(row['mcnemar_p'], exact=True)}, {label} = {pval(p, exact=True)} "
              f"{verdict} alpha {ctx.alpha:g}")
    return Outcome(not (worse and p < ctx.alpha), p, detail)
