"""The gate's decision on results already scored: the same for ``auditkit gate`` and the report.

``auditkit gate`` scores a candidate and its parent, then calls :func:`gate_results`; the report
calls :func:`gate_lineage` on a run, which gates every model against its parent in the run the
same way. So the report's "do not ship" list and the gate cannot disagree about a model on the
same results and policy. Pure: a results table in, :class:`GateResult` out.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

import pandas as pd

from auditkit.analyze.native.compare import probe_changes
from auditkit.gate.compare import Comparison, compare
from auditkit.gate.decide import Verdict, decide
from auditkit.gate.judges import UNSURE_BELOW, JudgeRef, judges_used, probe_judges
from auditkit.gate.policy import Policy
from auditkit.gate.result import GateResult
from auditkit.gate.robust import check_unsure
from auditkit.lineage import Lineage
from auditkit.store.manifest import RunManifest


def gate_results(results: pd.DataFrame, *, candidate: str, parent: str, policy: Policy,
                 manifest: RunManifest | None = None,
                 judge_confidence: float = UNSURE_BELOW,
                 items: pd.DataFrame | None = None) -> GateResult:
    """``candidate`` against ``parent`` item by item on every probe, under ``policy``.

    A check on a generation probe names the judge of its replies (agreement from ``manifest``
    when given); a failed one says whether it rests on replies judged with a confidence below
    ``judge_confidence`` (:func:`auditkit.gate.robust.check_unsure`). ``items``: the
    attributes of the benchmark items (auditkit.analyze.native), for the ``native`` check.
    """
    comparison = compare(results, candidate=candidate, parent=parent,
                         correction=policy.correction)
    if items is not None and len(items) and uses_native(policy):
        comparison = replace(comparison, native=probe_changes(
            results, items, candidate=candidate, parent=parent))
    pair = results[results["model"].isin([candidate, parent])]
    verdicts = explain(decide(policy, comparison), comparison, policy,
                       probe_judges(pair, manifest), judge_confidence)
    return GateResult(candidate, parent, policy, comparison, tuple(verdicts),
                      judges=judges_used(pair, manifest, below=judge_confidence,
                                         models=(parent, candidate)),
                      judge_confidence=judge_confidence)


def uses_native(policy: Policy) -> bool:
    """Whether any of the policy's settings switches the ``native`` check on."""
    return any(s.get("native") for s in (policy.defaults, *(r.settings for r in policy.rules)))


def explain(verdicts: list[Verdict], comparison: Comparison, policy: Policy,
            judges: Mapping[str, JudgeRef], below: float) -> list[Verdict]:
    """The verdicts of generation probes with their judge and, when failed, their unsure
    replies; the others as they are."""
    out = []
    for v in verdicts:
        if v.probe not in judges:
            out.append(v)
            continue
        alpha = policy.rules_for(v.probe, v.category).alpha
        # a native metric is not recomputed without the unsure replies
        unsure = None if v.passed or v.rule == "native" else check_unsure(comparison, v.probe, v.rule, v.threshold,
                                                   alpha=alpha, below=below)
        out.append(replace(v, judge=judges[v.probe].label, unsure=unsure))
    return out


def gate_lineage(results: pd.DataFrame, lineage: Lineage, policy: Policy, *,
                 manifest: RunManifest | None = None,
                 judge_confidence: float = UNSURE_BELOW,
                 items: pd.DataFrame | None = None) -> list[GateResult]:
    """Every model whose lineage parent has results, gated against that parent, in lineage
    order. Roots, and models whose parent has no results, have nothing to be gated against."""
    present = set(results["model"])
    scored = [m for m in lineage.topological() if m in present]
    return [gate_results(results, candidate=child, parent=parent, policy=policy,
                         manifest=manifest, judge_confidence=judge_confidence, items=items)
            for parent, child in lineage.edges(within=scored)]


def ungated(results: pd.DataFrame, lineage: Lineage) -> list[str]:
    """Models with results but no parent with results (the roots of the run), lineage order."""
    present = set(results["model"])
    return [m for m in lineage.topological()
            if m in present and lineage.parent(m) not in present]
