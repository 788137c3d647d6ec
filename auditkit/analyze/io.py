"""The analysis of a run directory and its tables on disk.

The run is read through the store (:func:`auditkit.store.read_run`); this module writes only
the analysis: ``RUN_DIR/analysis/summary.json`` holds the headline numbers, the per-scope rows,
the parameters and the multiple-comparison method; every table is
``RUN_DIR/analysis/<name>.parquet``.
"""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from auditkit import __version__
from auditkit.analyze.native import read_native_items
from auditkit.analyze.summary import MULTIPLE_COMPARISONS, TABLES, Analysis, analyze
from auditkit.store import Run, read_run

ANALYSIS_DIR = "analysis"

__all__ = ["ANALYSIS_DIR", "Run", "read_run", "summary_dict", "write_analysis", "analyze_run"]


def _json_ready(value: Any) -> Any:
    """NaN/inf as null, numpy values as Python values, recursively."""
    if isinstance(value, dict):
        return {str(k): _json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_json_ready(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


# Bumped whenever a table's or the summary's keys or definitions change, so that an analysis
# written by an older auditkit is recomputed rather than read (2: counts n_*, shares *_rate;
# 3: issue 17's definitions: kappa of constant models, relative risk, H intervals, chance levels;
# 4: the dataset-native tables native and native_edges, Holm over each edge's probe and native tests).
ANALYSIS_SCHEMA = 4


def summary_dict(analysis: Analysis) -> dict[str, Any]:
    """The JSON summary: schema, parameters, multiple-comparison method, headline, scopes."""
    summary: dict[str, Any] = _json_ready({
        "schema": ANALYSIS_SCHEMA, "tool_version": __version__,
        "parameters": {k: v for k, v in analysis.parameters.items() if k != "multiple_comparisons"},
        "multiple_comparisons": MULTIPLE_COMPARISONS, "headline": analysis.headline,
        "scopes": analysis.scopes.to_dict("records"),
        "tables": {name: f"{name}.parquet" for name in TABLES}})
    return summary


def write_analysis(run_dir: str | Path, analysis: Analysis) -> Path:
    """Write ``analysis/summary.json`` and one Parquet file per table; returns the directory."""
    out = Path(run_dir) / ANALYSIS_DIR
    out.mkdir(parents=True, exist_ok=True)
    for name, table in analysis.tables().items():
        table.to_parquet(out / f"{name}.parquet", index=False)
    (out / "summary.json").write_text(json.dumps(summary_dict(analysis), indent=2) + "\n")
    return out


def analyze_run(run_dir: str | Path, *, seed: int = 0, n_bootstrap: int = 1000,
                n_permutations: int = 1000, workers: int = 1) -> Analysis:
    """Read RUN_DIR, analyse it (its scopes on up to ``workers`` processes: the same tables
    whatever their number), write RUN_DIR/analysis/; what ``auditkit analyze`` calls."""
    run = read_run(run_dir)
    analysis = analyze(run.results, run.parents, seed=seed, n_bootstrap=n_bootstrap,
                       n_permutations=n_permutations, workers=workers,
                       items=read_native_items(run_dir, run.manifest))
    write_analysis(run_dir, analysis)
    return analysis
