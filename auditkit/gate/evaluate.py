"""The gate's decision on results already scored: the same for ``auditkit gate`` and the report.

``auditkit gate`` scores a candidate and its parent, then calls :func:`gate_results`; the report
calls :func:`gate_lineage` on a run, which gates every model against its parent in the run the
same way. So the report's "do not ship" list and the gate cannot disagree about a model on the
same results and policy. Pure: a results table in, :class:`GateResult` out.
"""
from __future__ import annotations

import pandas as pd

from auditkit.gate.compare import compare
from auditkit.gate.decide import decide
from auditkit.gate.policy import Policy
from auditkit.gate.result import GateResult
from auditkit.lineage import Lineage


def gate_results(results: pd.DataFrame, *, candidate: str, parent: str,
                 policy: Policy) -> GateResult:
    """``candidate`` against ``parent`` item by item on every probe, under ``policy``."""
    comparison = compare(results, candidate=candidate, parent=parent,
                         correction=policy.correction)
    return GateResult(candidate, parent, policy, comparison, tuple(decide(policy, comparison)))


def gate_lineage(results: pd.DataFrame, lineage: Lineage, policy: Policy) -> list[GateResult]:
    """Every model whose lineage parent has results, gated against that parent, in lineage
    order. Roots, and models whose parent has no results, have nothing to be gated against."""
    present = set(results["model"])
    scored = [m for m in lineage.topological() if m in present]
    return [gate_results(results, candidate=child, parent=parent, policy=policy)
            for parent, child in lineage.edges(within=scored)]


def ungated(results: pd.DataFrame, lineage: Lineage) -> list[str]:
    """Models with results but no parent with results (the roots of the run), lineage order."""
    present = set(results["model"])
    return [m for m in lineage.topological()
            if m in present and lineage.parent(m) not in present]
