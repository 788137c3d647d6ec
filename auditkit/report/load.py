"""What a report needs from a run directory: manifest, item-level results and the analysis.

The analysis is read from ``RUN_DIR/analysis/`` when it is there and newer than the results;
otherwise it is computed (and written) first, so a report never shows stale numbers.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from auditkit.analyze.io import ANALYSIS_DIR, ANALYSIS_SCHEMA, analyze_run
from auditkit.analyze.summary import TABLES, Analysis
from auditkit.errors import AuditError
from auditkit.lineage import Lineage
from auditkit.store import RunManifest, manifest_path, read_run, results_path


@dataclass(frozen=True)
class RunReportData:
    """A run directory, read and analysed."""

    run_dir: Path
    manifest: RunManifest
    lineage: Lineage                     # the run's models, manifest (topological) order
    results: pd.DataFrame                # every column of RESULT_COLUMNS
    analysis: Analysis

    @property
    def parents(self) -> dict[str, str | None]:
        return dict(self.lineage.parents)


def load_run_report_data(run_dir: str | Path, *, reanalyze: bool = False) -> RunReportData:
    """Read RUN_DIR; analyse it first when its analysis is missing, stale or ``reanalyze``."""
    run_dir = Path(run_dir)
    run = read_run(run_dir)
    analysis = None if reanalyze else read_analysis(run_dir)
    if analysis is None:
        analysis = analyze_run(run_dir, seed=run.manifest.seed)
    return RunReportData(run_dir, run.manifest, run.lineage, run.results, analysis)


def read_analysis(run_dir: Path) -> Analysis | None:
    """The analysis written in RUN_DIR/analysis/, or None when missing, incomplete or stale."""
    folder = run_dir / ANALYSIS_DIR
    summary_path = folder / "summary.json"
    if not summary_path.is_file() or not all((folder / f"{t}.parquet").is_file() for t in TABLES):
        return None
    if _newer(results_path(run_dir), summary_path) or _newer(manifest_path(run_dir),
                                                               summary_path):
        return None
    try:
        summary = json.loads(summary_path.read_text(encoding="utf-8"))
        tables = {t: pd.read_parquet(folder / f"{t}.parquet") for t in TABLES}
    except (OSError, ValueError) as err:
        raise AuditError(folder, f"cannot read the analysis ({err}); delete the folder or run "
                                 "'auditkit analyze' again") from None
    if summary.get("schema") != ANALYSIS_SCHEMA or not isinstance(summary.get("headline"), dict):
        return None
    params = dict(summary.get("parameters") or {})
    params["multiple_comparisons"] = summary.get("multiple_comparisons")
    return Analysis(**tables, headline=summary["headline"], parameters=params)


def _newer(path: Path, than: Path) -> bool:
    return path.is_file() and path.stat().st_mtime > than.stat().st_mtime
