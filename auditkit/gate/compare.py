"""Candidate against parent, item by item on every probe: the paired 2x2 table of failures.

The one parent/child comparison: the gate decides on it, and the report's "do not ship" list
is the gate's decision on every lineage edge of a run (:mod:`auditkit.gate.evaluate`). On the
n items of a probe that both models were scored on: ``n_inherited`` both fail (n11),
``n_new`` only the candidate fails (n01), ``n_fixed`` only the parent fails (n10), the rest
both pass (n00). Counts are ``n_*``, shares ``*_rate``. Each item keeps both models' judge
confidence (generation; NaN otherwise), which :mod:`auditkit.gate.robust` uses to ask whether a
conclusion rests on replies the judge is unsure about. Pure: a results table
(docs/run-format.md) in, tables out.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from auditkit.analyze.stats import holm, mcnemar_exact, wilson_interval
from auditkit.errors import AuditError

KEY = ["probe", "item"]
ITEM_COLUMNS = ["probe", "category", "dimension", "kind", "item", "group", "parent_failed",
                "candidate_failed", "change", "parent_output", "candidate_output",
                "candidate_chosen", "parent_confidence", "candidate_confidence"]
TABLE_COLUMNS = ["probe", "category", "dimension", "kind", "n_items", "n_parent_failed",
                 "n_candidate_failed", "parent_rate", "parent_rate_lo", "parent_rate_hi",
                 "candidate_rate", "candidate_rate_lo", "candidate_rate_hi", "rate_change",
                 "n_new", "n_fixed", "n_inherited", "new_rate", "fixed_rate", "mcnemar_p",
                 "adjusted_p", "direction"]


@dataclass(frozen=True, eq=False)
class Comparison:
    """The candidate against its parent: per probe (``table``) and per item (``items``)."""

    candidate: str
    parent: str
    table: pd.DataFrame        # one row per probe, TABLE_COLUMNS
    items: pd.DataFrame        # one row per (probe, item) both models have, ITEM_COLUMNS
    correction: str            # how adjusted_p was corrected across probes: "holm" or "none"
    n_unpaired: int = 0        # result rows of either model without the other's
    # benchmark probes' native metrics, parent against candidate (analyze.native.compare)
    native: pd.DataFrame | None = None

    def native_rows(self, probe: str) -> pd.DataFrame | None:
        """The probe's native-metric rows; None when they were not computed."""
        if self.native is None:
            return None
        rows: pd.DataFrame = self.native[self.native["probe"] == probe]
        return rows

    def regressed(self, probe: str | None = None) -> pd.DataFrame:
        """Items the parent passes and the candidate fails (new failures)."""
        rows: pd.DataFrame = self.items[self.items["change"] == "new"]
        return rows if probe is None else rows[rows["probe"] == probe]

    def row(self, probe: str) -> pd.Series:
        found: pd.Series = self.table.loc[self.table["probe"] == probe].iloc[0]
        return found


def compare(results: pd.DataFrame, *, candidate: str, parent: str,
            correction: str = "holm") -> Comparison:
    """Pair the candidate's and the parent's results and test every probe for a change.

    Per probe: failure rates with Wilson 95% intervals (Wilson 1927), the counts of new, fixed
    and inherited failures, McNemar's exact test of new vs fixed (McNemar 1947) and, with ``correction="holm"``,
    Holm's step-down adjustment across all probes of the comparison (Holm 1979).
    """
    items, unpaired = paired_items(results, candidate=candidate, parent=parent)
    table = probe_table(items, correction=correction)
    return Comparison(candidate, parent, table, items, correction, unpaired)


def paired_items(results: pd.DataFrame, *, candidate: str,
                 parent: str) -> tuple[pd.DataFrame, int]:
    """One row per (probe, item) both models have, with each one's outcome and the change."""
    for model in (candidate, parent):
        if not (results["model"] == model).any():
            raise AuditError("results", f"no results for model {model!r}", field="model")
    if "confidence" not in results:             # a table written before judges had one
        results = results.assign(confidence=np.nan)
    cols = ["probe", "category", "dimension", "kind", "item", "group", "failed", "output",
            "chosen", "confidence"]
    cand = results.loc[results["model"] == candidate, cols].rename(
        columns={"chosen": "candidate_chosen"})
    par = results.loc[results["model"] == parent, KEY + ["failed", "output", "confidence"]]
    for model, rows in ((candidate, cand), (parent, par)):
        if rows.duplicated(KEY).any():
            raise AuditError("results", f"model {model!r} has more than one result for an item",
                             item=str(rows.loc[rows.duplicated(KEY), "item"].iloc[0]))
    merged = cand.merge(par, on=KEY, how="inner", suffixes=("_candidate", "_parent"))
    merged = merged.rename(columns={"failed_candidate": "candidate_failed",
                                    "failed_parent": "parent_failed",
                                    "output_candidate": "candidate_output",
                                    "output_parent": "parent_output",
                                    "confidence_candidate": "candidate_confidence",
                                    "confidence_parent": "parent_confidence"})
    c, p = merged["candidate_failed"].to_numpy(bool), merged["parent_failed"].to_numpy(bool)
    merged["change"] = np.select([c & p, c & ~p, ~c & p], ["inherited", "new", "fixed"],
                                 "passed")
    unpaired = len(cand) + len(par) - 2 * len(merged)
    return merged[ITEM_COLUMNS].reset_index(drop=True), unpaired


def probe_table(items: pd.DataFrame, *, correction: str = "holm") -> pd.DataFrame:
    """The per-probe table (TABLE_COLUMNS) from :func:`paired_items`' rows, probes in order.

    new_rate = n_new / n_items; fixed_rate = n_fixed / n_parent_failed (NaN when the parent
    fails nothing), the analysis' edge ``fixed_rate`` (docs/analysis-format.md).
    """
    if correction not in ("holm", "none"):
        raise ValueError(f"correction must be 'holm' or 'none', not {correction!r}")
    change = items["change"]
    flags = pd.DataFrame({"probe": items["probe"], "n_items": 1, "n_new": change == "new",
                          "n_fixed": change == "fixed", "n_inherited": change == "inherited"})
    counts = flags.groupby("probe", sort=False).sum()
    meta = items.groupby("probe", sort=False)[["category", "dimension", "kind"]].first()
    t = meta.join(counts).reset_index()
    n, new, fixed, inh = (t[c].to_numpy(np.int64) for c in ("n_items", "n_new", "n_fixed",
                                                            "n_inherited"))
    t["n_parent_failed"], t["n_candidate_failed"] = inh + fixed, inh + new
    for who, k in (("parent", inh + fixed), ("candidate", inh + new)):
        t[f"{who}_rate"] = k / n
        t[f"{who}_rate_lo"], t[f"{who}_rate_hi"] = wilson_interval(k, n)
    t["rate_change"] = t["candidate_rate"] - t["parent_rate"]
    t["new_rate"] = new / n
    with np.errstate(divide="ignore", invalid="ignore"):
        t["fixed_rate"] = np.where(inh + fixed > 0, fixed / (inh + fixed), np.nan)
    t["mcnemar_p"] = mcnemar_exact(fixed, new)
    t["adjusted_p"] = holm(t["mcnemar_p"].to_numpy()) if correction == "holm" else t["mcnemar_p"]
    t["direction"] = np.select([new > fixed, new < fixed], ["worse", "better"], "same")
    table: pd.DataFrame = t[TABLE_COLUMNS]
    return table
