"""The report's view model: everything the HTML and Markdown templates show, as plain values.

Built once from a run directory (manifest, results, analysis); both renderers only format it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from auditkit import __version__
from auditkit.analyze.native import read_native_items
from auditkit.analyze.summary import ALPHA, Analysis, significant_edge_changes
from auditkit.gate import Policy, gate_lineage, load_policy
from auditkit.gate.evaluate import ungated
from auditkit.gate.judges import UNSURE_BELOW
from auditkit.report import charts
from auditkit.report.benchmarks import benchmark_views
from auditkit.report.items import find_item_texts
from auditkit.report.judges import (
    JudgesView,
    judge_sentences,
    judges_intro,
    judges_table,
    judges_view,
    labels_table,
    rates_caption,
    unsure_edges_table,
    with_judge_column,
    with_unsure_column,
)
from auditkit.report.lineage_trees import lineage_trees
from auditkit.report.load import RunReportData
from auditkit.report.systemic import SYSTEMIC_SHARE, find_systemic
from auditkit.report.tables import (
    blast_table,
    edges_table,
    models_table,
    probes_table,
    rates_long_table,
    rates_summary_table,
    scopes_table,
)
from auditkit.report.tree import lineage_tree
from auditkit.report.verdict import ShipList, verdict_sentences
from auditkit.store import RunManifest

# above this many (model, probe) dots the rate chart shows categories instead of probes
MAX_RATE_DOTS = 240


@dataclass(frozen=True)
class ReportOptions:
    """What the report flags and how much it shows."""

    # the gate policy that decides "do not ship" (None: the gate's built-in default policy)
    policy: Policy | None = field(default=None, compare=False)
    # significance level of the report's own tests: shared failures (verdict), significant
    # lineage edges (tree, n_edge_changes_significant); the policy has its own alpha
    alpha: float = ALPHA
    systemic_share: float = SYSTEMIC_SHARE
    systemic_limit: int = 40            # systemic items shown in the HTML report
    # a generation reply is unsure when its judge's confidence is below this
    judge_confidence: float = UNSURE_BELOW

    def gate_policy(self) -> Policy:
        return self.policy if self.policy is not None else load_policy()


def build_context(data: RunReportData, options: ReportOptions = ReportOptions()) -> dict[str, Any]:
    """The view model of a run's report."""
    analysis, manifest = data.analysis, data.manifest
    scored = set(data.results["model"])
    order = [m for m in data.lineage.topological() if m in scored]
    texts = find_item_texts(manifest)
    judges = judges_view(data, order, alpha=options.alpha, below=options.judge_confidence)
    return {
        "family": manifest.family.name or data.run_dir.name,
        "provenance": provenance(manifest, analysis),
        "headline": headline(analysis, options.alpha),
        "verdict": verdict(data, options, judges),
        "order": order,
        "cluster_order": cluster_order(analysis, order),
        "tree": lineage_tree(data.lineage, _kinds(manifest), analysis.rates, analysis.edges,
                             alpha=options.alpha),
        "lineage_trees": lineage_trees(manifest, _pooled(analysis.pairs), order),
        "tables": tables(analysis, manifest, order, judges),
        "benchmarks": benchmark_views(analysis, order),
        "charts": chart_set(analysis, order, judges),
        "judges": judges, "judges_intro": judges_intro(judges),
        "systemic": find_systemic(data.results, order, texts, share=options.systemic_share,
                                  limit=options.systemic_limit),
        "item_texts": texts,
        "options": options,
    }


def headline(analysis: Analysis, alpha: float) -> dict[str, Any]:
    """The analysis' headline with its count of significant edge changes at the report's alpha."""
    return {**analysis.headline,
            "n_edge_changes_significant": significant_edge_changes(analysis.edges, alpha)}


def verdict(data: RunReportData, options: ReportOptions, judges: JudgesView) -> dict[str, Any]:
    """The sentences (the judges' among them), and the gate policy's decision on every parent
    and child of the run."""
    ships = ships_of(data, options)
    sentences = verdict_sentences(data.analysis, len(data.manifest.probes), alpha=options.alpha)
    return {"sentences": sentences + judge_sentences(judges),
            "ships": ships, "flags": ships.do_not_ship, "warnings": ships.warnings,
            "rule": ships.rule()}


def ships_of(data: RunReportData, options: ReportOptions) -> ShipList:
    """The gate policy on every parent and child of the run (auditkit.gate.gate_lineage); a
    failed check on a generation probe names its judge and its unsure replies."""
    policy = options.gate_policy()
    gates = gate_lineage(data.results, data.lineage, policy, manifest=data.manifest,
                         judge_confidence=options.judge_confidence,
                         items=read_native_items(data.run_dir, data.manifest))
    return ShipList(policy, tuple(gates), tuple(ungated(data.results, data.lineage)))


def provenance(manifest: RunManifest, analysis: Analysis) -> dict[str, Any]:
    """The run's facts: who, what, where, when, with what tool and analysis parameters."""
    params = {k: v for k, v in analysis.parameters.items() if k != "multiple_comparisons"}
    return {"tool_version": manifest.tool_version,
            "report_version": __version__,
            "created": manifest.created, "family_root": manifest.family.root,
            "device": manifest.device, "dtype": manifest.dtype, "seed": manifest.seed,
            "selection": manifest.selection or "all items", "config": manifest.config or "",
            "analysis": params}


def _pooled(pairs: pd.DataFrame) -> pd.DataFrame:
    pooled: pd.DataFrame = pairs.loc[pairs["level"] == "pooled"]
    return pooled


def _kinds(manifest: RunManifest) -> dict[str, str]:
    return {m.name: m.kind for m in manifest.models}


def cluster_order(analysis: Analysis, order: list[str]) -> list[str]:
    """The pooled behavioural dendrogram's leaf order (lineage order when missing)."""
    pooled = analysis.scopes[analysis.scopes["level"] == "pooled"]
    leaves = list(pooled["leaf_order"].iloc[0]) if len(pooled) else []
    return [str(m) for m in leaves] if sorted(map(str, leaves)) == sorted(order) else order


def tables(analysis: Analysis, manifest: RunManifest, order: list[str],
           judges: JudgesView) -> dict[str, Any]:
    """Every table of the report; those with a row per probe name each generation probe's
    judge, and the per-probe edges say which significant changes rest on unsure replies."""
    edges_probe = edges_table(analysis, "probe", id="edges-probe",
                              title="Inheritance along lineage edges per probe")
    return {
        "models": models_table(manifest),
        "probes": with_judge_column(probes_table(manifest), judges),
        "rates": rates_summary_table(analysis, order),
        "rates_probe": with_judge_column(rates_long_table(analysis, order), judges),
        "scopes": with_judge_column(scopes_table(analysis), judges),
        "blast": blast_table(analysis),
        "edges": edges_table(analysis, "pooled", id="edges",
                             title="Inheritance along lineage edges (all probes pooled)"),
        "edges_category": edges_table(analysis, "category", id="edges-category",
                                      title="Inheritance along lineage edges per category"),
        "edges_probe": with_unsure_column(with_judge_column(edges_probe, judges), judges),
        "judges": judges_table(judges), "judge_labels": labels_table(judges),
        "unsure_edges": unsure_edges_table(judges),
    }


def chart_set(analysis: Analysis, order: list[str],
              judges: JudgesView) -> dict[str, dict[str, str]]:
    """Each chart: title, caption and the inline SVG."""
    pairs = analysis.pairs[analysis.pairs["level"] == "pooled"]
    hist = analysis.histogram[analysis.histogram["level"] == "pooled"]
    clustered = cluster_order(analysis, order)
    return {
        "kappa_lineage": _chart("Error consistency, lineage order", charts.heatmap_svg(
            charts.kappa_matrix(pairs, order), order, title="ordered by lineage",
            salt="kappa-lineage"), "κ = 0: independent failures; κ = 1: the same items fail."),
        "kappa_cluster": _chart("Error consistency, behaviour order", charts.heatmap_svg(
            charts.kappa_matrix(pairs, clustered), clustered,
            title="ordered by behavioural clustering", salt="kappa-cluster"),
            "Models ordered by average-linkage clustering on 1 − κ."),
        "histogram": _chart("Outcome histogram", charts.histogram_svg(
            hist, title="items failed by exactly k models", salt="histogram"),
            "Observed against the Poisson-binomial expectation for independent models with the "
            "same failure rates; whiskers: 95% range of the permutation null."),
        "rates": _rates_chart(analysis, order, judges),
    }


def _chart(title: str, svg: str, caption: str) -> dict[str, str]:
    return {"title": title, "svg": svg, "caption": caption}


def _rates_chart(analysis: Analysis, order: list[str], judges: JudgesView) -> dict[str, str]:
    rates = analysis.rates
    level = "probe" if (rates["level"] == "probe").sum() <= MAX_RATE_DOTS else "category"
    scoped = rates[rates["level"] == level]
    if scoped.empty:
        scoped = rates[rates["level"] == "pooled"]
    return _chart(f"Failure rates per model and {level}",
                  charts.rates_svg(pd.DataFrame(scoped), order, salt="rates"),
                  "Dots: share of items failed; lines: 95% Wilson intervals."
                  + rates_caption(judges))
