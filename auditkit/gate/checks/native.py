"""``native``: limits on a benchmark probe's dataset-native metrics (docs/gate.md).

The threshold maps ``benchmark.metric`` names (``bbq.bias_score_ambig``; every name:
:func:`auditkit.analyze.native.metric_names`) to limits: ``max`` / ``min`` on the candidate's
value, ``max_increase`` / ``max_decrease`` on its change from the parent. A probe is checked on
the metrics of its own benchmark, computed on its items (auditkit.analyze.native.compare); the
others do not apply to it. Without the benchmark item attributes the check fails: a limit the
policy sets is never skipped silently.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pandas as pd

from auditkit.analyze.native import metric_names
from auditkit.gate.checks.base import CheckContext, Outcome, register_check
from auditkit.present import num, num_ci, pval

LIMITS = ("max", "min", "max_increase", "max_decrease")
EXPECTED = ("a mapping of native metric names (benchmark.metric, e.g. bbq.bias_score_ambig) "
            f"to limits ({', '.join(LIMITS)}: numbers)")


def valid_limits(value: Any) -> bool:
    """Whether a policy's ``native`` value is well formed (known metrics, known limits)."""
    known = set(metric_names())
    return isinstance(value, Mapping) and bool(value) and all(
        isinstance(name, str) and name in known and isinstance(limits, Mapping)
        and bool(limits) and all(k in LIMITS and _number(v) for k, v in limits.items())
        for name, limits in value.items())


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


@register_check("native", title="dataset-native metrics", threshold="native")
def native(row: pd.Series, limits: Mapping[str, Mapping[str, float]],
           ctx: CheckContext) -> Outcome:
    if ctx.native is None:
        return Outcome(False, math.nan, "the native metrics were not computed (the run's "
                                        "benchmark item attributes are missing)")
    found = [(name, bound, _metric_row(ctx.native, name)) for name, bound in limits.items()]
    checked = [(name, bound, r) for name, bound, r in found if r is not None]
    if not checked:
        return Outcome(True, math.nan, "none of the native metrics named applies to this probe")
    results = [_one(name, bound, r) for name, bound, r in checked]
    failed = [r for r in results if not r[0]]
    observed = (failed or results)[0][1]
    return Outcome(not failed, observed, "; ".join(text for _, _, text in results))


def _metric_row(rows: pd.DataFrame, name: str) -> pd.Series | None:
    if rows.empty:
        return None
    benchmark, metric = name.split(".", 1)
    hit = rows[(rows["benchmark"] == benchmark) & (rows["metric"] == metric)]
    return None if hit.empty else hit.iloc[0]


def _one(name: str, limits: Mapping[str, float], r: pd.Series) -> tuple[bool, float, str]:
    """(passed, first quantity outside its limit or the candidate's value, in words)."""
    value, change = float(r["child_value"]), float(r["change"])
    quantity = {"max": value, "min": value, "max_increase": change, "max_decrease": -change}
    broken = [k for k, bound in limits.items() if not _within(k, quantity[k], bound)]
    allowed = ", ".join(f"{k.replace('_', ' ')} {num(b)}" for k, b in limits.items())
    text = (f"{name} {num(r['parent_value'])} → {num(value)} (change "
            f"{num_ci(change, r['change_lo'], r['change_hi'])}, {r['test']} p = "
            f"{pval(r['p_value'], exact=True)}); allowed: {allowed}")
    if math.isnan(value):
        return True, value, text + " (undefined on these items: not checked)"
    return not broken, quantity[broken[0]] if broken else value, text


def _within(limit: str, quantity: float, bound: float) -> bool:
    if math.isnan(quantity):
        return True
    return quantity >= bound - 1e-12 if limit == "min" else quantity <= bound + 1e-12
