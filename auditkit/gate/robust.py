"""Does a conclusion on a generation probe rest on replies the judge is unsure about?

A reply is *unsure* when its judgement's confidence is below a threshold (default 0.8;
``--judge-confidence``). A conclusion about a parent and a child on one probe (a significant
lineage edge in the report, a failed gate check) is driven by the discordant items, those one
model fails and the other passes. :func:`recompute` counts the discordant items whose reply is
unsure in either model, leaves them out and recomputes the probe's comparison row (McNemar's
exact test, and the comparison's correction across its probes, as before);
:func:`edge_unsure` (is the change still significant?) and :func:`check_unsure` (does the
check still fail?) say whether the conclusion holds without them. Pure, and built on the
gate's comparison (:mod:`auditkit.gate.compare`), the one the report shares.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from auditkit.gate.checks import CheckContext, check_kind
from auditkit.gate.compare import Comparison, probe_table
from auditkit.gate.judges import UNSURE_BELOW
from auditkit.present import pval

__all__ = ["UNSURE_BELOW", "Recomputed", "Unsure", "check_unsure", "edge_unsure", "recompute",
           "unsure_items"]


@dataclass(frozen=True)
class Unsure:
    """What one conclusion on one probe owes to unsure replies."""

    probe: str
    below: float               # the unsure threshold
    n_discordant: int          # items one model fails and the other passes
    n_unsure: int              # of which with an unsure reply in either model
    n_unknown: int             # of which not unsure but with no recorded confidence
    holds: bool                # the conclusion holds without the unsure items
    without: str               # the test or check recomputed without them, in words
    mcnemar_p: float = math.nan     # McNemar exact p without them
    adjusted_p: float = math.nan    # ... corrected as the comparison is

    @property
    def text(self) -> str:
        """'rests on 4 discordant items judged unsure (confidence < 0.8 in either model) of
        9: without them Holm p = 0.21, not significant; the conclusion does not hold'."""
        if self.n_unsure:
            verdict = "holds" if self.holds else "does not hold"
            return (f"rests on {self.n_unsure} of its {self.n_discordant} discordant items "
                    f"judged unsure (confidence < {self.below:g} in either model): without "
                    f"them {self.without}; the conclusion {verdict}")
        if not self.n_discordant:
            return "no discordant items"
        if self.n_unknown == self.n_discordant:
            return f"judge confidence not recorded for its {self.n_discordant} discordant items"
        return (f"no unsure reply among its {self.n_discordant} discordant items "
                f"(confidence < {self.below:g})")

    def record(self) -> dict[str, Any]:
        """JSON-ready (NaN as None)."""
        def plain(x: float) -> float | None:
            return None if math.isnan(x) else x
        return {"probe": self.probe, "confidence_below": self.below,
                "n_discordant": self.n_discordant, "n_unsure": self.n_unsure,
                "n_unknown": self.n_unknown, "holds": self.holds,
                "mcnemar_p_without": plain(self.mcnemar_p),
                "adjusted_p_without": plain(self.adjusted_p), "text": self.text}


def unsure_items(items: pd.DataFrame, below: float = UNSURE_BELOW) -> tuple[np.ndarray, ...]:
    """(discordant, unsure, unknown) masks over a comparison's items: discordant items; those
    with a reply of confidence < ``below`` in either model; those neither unsure nor with both
    confidences recorded."""
    discordant = items["change"].isin(["new", "fixed"]).to_numpy()
    conf = items[["parent_confidence", "candidate_confidence"]].to_numpy(float)
    unsure = discordant & (np.nan_to_num(conf, nan=np.inf) < below).any(axis=1)
    unknown = discordant & ~unsure & np.isnan(conf).any(axis=1)
    return discordant, unsure, unknown


@dataclass(frozen=True, eq=False)
class Recomputed:
    """One probe of a comparison without its unsure discordant items."""

    n_discordant: int
    n_unsure: int
    n_unknown: int
    row: pd.Series | None      # the probe's comparison row without them (None: no item left)


def recompute(comparison: Comparison, probe: str, below: float = UNSURE_BELOW) -> Recomputed:
    """Leave out the probe's discordant items with an unsure reply and recompute the table
    (the other probes unchanged, so a correction across probes sees the new p-value)."""
    items = comparison.items
    mine = (items["probe"] == probe).to_numpy()
    discordant, unsure, unknown = (m & mine for m in unsure_items(items, below))
    table = probe_table(items[~unsure], correction=comparison.correction)
    rows = table[table["probe"] == probe]
    return Recomputed(int(discordant.sum()), int(unsure.sum()), int(unknown.sum()),
                      rows.iloc[0] if len(rows) else None)


def _unsure(probe: str, below: float, again: Recomputed, holds: bool, without: str) -> Unsure:
    row = again.row
    p, adj = ((math.nan, math.nan) if row is None
              else (float(row["mcnemar_p"]), float(row["adjusted_p"])))
    return Unsure(probe, below, again.n_discordant, again.n_unsure, again.n_unknown, holds,
                  without, p, adj)


def edge_unsure(comparison: Comparison, probe: str, *, alpha: float,
                below: float = UNSURE_BELOW) -> Unsure:
    """A significant change on ``probe`` (adjusted p < ``alpha``): is it still significant,
    in the same direction, without the unsure discordant items?"""
    before = comparison.row(probe)
    again = recompute(comparison, probe, below)
    if again.row is None:
        return _unsure(probe, below, again, False, "no item is left")
    adj = float(again.row["adjusted_p"])
    holds = adj < alpha and again.row["direction"] == before["direction"]
    name = "Holm p" if comparison.correction == "holm" else "p"
    without = (f"McNemar p = {pval(again.row['mcnemar_p'])}, {name} = {pval(adj)}, "
               f"{'still significant' if holds else 'not significant'} at {alpha:g}")
    return _unsure(probe, below, again, holds, without)


def check_unsure(comparison: Comparison, probe: str, rule: str, threshold: Any, *,
                 alpha: float, below: float = UNSURE_BELOW) -> Unsure:
    """A failed gate check (``rule`` with ``threshold``) on ``probe``: does it still fail
    without the unsure discordant items?"""
    again = recompute(comparison, probe, below)
    if again.row is None:
        return _unsure(probe, below, again, False, "no item is left")
    outcome = check_kind(rule).evaluate(again.row, threshold,
                                        CheckContext(alpha, comparison.correction))
    verdict = "the check still fails" if not outcome.passed else "the check passes"
    return _unsure(probe, below, again, not outcome.passed, f"{outcome.detail}: {verdict}")
