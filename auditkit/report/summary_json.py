"""``RUN_DIR/summary.json``: a run's headline numbers and verdict, for other tools.

It extends the analysis' summary (:func:`auditkit.analyze.io.summary_dict`: schema, parameters,
multiple-comparison method, headline, per-scope rows) with the run's provenance, per-model
rates, the report's verdict and the systemic items, and names every table by its path relative
to RUN_DIR. ``schema`` changes only when a key is renamed or removed.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any

from auditkit.analyze.io import ANALYSIS_DIR, _json_ready, summary_dict
from auditkit.analyze.summary import TABLES
from auditkit.gate import DEFAULT_POLICY, Policy
from auditkit.report.benchmarks import benchmarks_record
from auditkit.report.judges import judges_record
from auditkit.report.load import RunReportData
from auditkit.report.verdict import Flag
from auditkit.store import manifest_json

SUMMARY_SCHEMA = 2          # 2: counts n_*, shares *_rate; the verdict is the gate policy's
MAX_SYSTEMIC_IDS = 1000


def run_summary(data: RunReportData, ctx: dict[str, Any]) -> dict[str, Any]:
    """The JSON document (plain values: NaN as null)."""
    summary = summary_dict(replace(data.analysis, headline=ctx["headline"]))
    summary.update({
        "schema": SUMMARY_SCHEMA, "kind": "auditkit.run-summary",
        "run": _run(manifest_json(data.manifest)),
        "models": _models(data, ctx["order"]),
        "verdict": _verdict(ctx),
        "systemic": _systemic(ctx),
        "judges": judges_record(ctx["judges"]),
        "benchmarks": benchmarks_record(data.analysis),
        "tables": {"results": "results.parquet",
                   **{name: f"{ANALYSIS_DIR}/{name}.parquet" for name in TABLES}},
        "reports": {"html": "report.html", "markdown": "report.md"},
    })
    ready: dict[str, Any] = _json_ready(summary)
    return ready


def _verdict(ctx: dict[str, Any]) -> dict[str, Any]:
    verdict = ctx["verdict"]
    return {"rule": verdict["rule"], "policy": _policy(verdict["ships"].policy),
            "alpha": ctx["options"].alpha, "do_not_ship": _flags(verdict["flags"]),
            "warnings": _flags(verdict["warnings"]),
            "not_gated": list(verdict["ships"].ungated), "sentences": verdict["sentences"]}


def _policy(policy: Policy) -> dict[str, Any]:
    """Name, file (null: the built-in default policy), alpha and correction."""
    path = None if policy.path in (None, DEFAULT_POLICY) else str(policy.path)
    return {"name": policy.name, "path": path, "alpha": policy.alpha,
            "correction": policy.correction}


def _flags(flags: list[Flag]) -> list[dict[str, Any]]:
    return [{"model": f.model, "parent": f.parent, "reasons": list(f.reasons)} for f in flags]


def _run(manifest: dict[str, Any]) -> dict[str, Any]:
    """The manifest's provenance keys (its JSON form)."""
    keys = ("tool_version", "created", "family", "selection", "device", "dtype", "seed",
            "config", "probes_path")
    run = {k: manifest.get(k) for k in keys}
    run["models"] = [{k: m.get(k) for k in ("name", "parent", "kind", "fingerprint")}
                     for m in manifest.get("models", [])]
    run["probes"] = [{k: p.get(k) for k in ("name", "version", "kind", "category", "dimension",
                                            "n_items")} for p in manifest.get("probes", [])]
    return run


def _models(data: RunReportData, order: list[str]) -> list[dict[str, Any]]:
    """Per model: parent, pooled rate with interval, the chance level beside it (on the items
    that have one) and the rate of each category."""
    rates = data.analysis.rates
    pooled = {r["model"]: r for r in rates[rates["level"] == "pooled"].to_dict("records")}
    cats = rates[rates["level"] == "category"]
    out = []
    for model in order:
        r = pooled[model]
        mine = cats[cats["model"] == model]
        out.append({"name": model, "parent": data.lineage.parent(model), "n_items": r["n_items"],
                    "n_failed": r["n_failed"], "rate": r["rate"], "rate_lo": r["rate_lo"],
                    "rate_hi": r["rate_hi"], "n_chance_items": r.get("n_chance_items"),
                    "chance_rate": r.get("chance_rate"),
                    "chance_items_rate": r.get("chance_items_rate"),
                    "categories": dict(zip(mine["scope"], mine["rate"]))})
    return out


def _systemic(ctx: dict[str, Any]) -> dict[str, Any]:
    s = ctx["systemic"]
    return {"threshold": s.threshold, "n_models": s.n_models, "count": s.total,
            "items": [{"probe": it.probe, "item": it.item, "n_failing": it.n_failing}
                      for it in s.items]}
