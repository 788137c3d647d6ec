"""The run directory (docs/run-format.md): its one reader and its one writer.

``RUN_DIR/manifest.json`` is the run's :class:`RunManifest`, ``RUN_DIR/results.parquet`` one
row per (model, probe, item) with the columns of :mod:`auditkit.store.schema`. Everything after
scoring (analysis, reports, the simulators) reads and writes runs through here.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from auditkit.errors import AuditError
from auditkit.lineage import Lineage
from auditkit.store.manifest import RunManifest, load_manifest, manifest_json
from auditkit.store.results import read_results
from auditkit.store.results import write_results as _write_results_file

RESULTS_FILE = "results.parquet"
MANIFEST_FILE = "manifest.json"


@dataclass(frozen=True, eq=False)
class Run:
    """A run directory, read and checked."""

    run_dir: Path
    manifest: RunManifest
    results: pd.DataFrame        # every column of RESULT_COLUMNS, one row per (model, probe, item)
    lineage: Lineage             # the manifest's models[].parent, in manifest (topological) order

    @property
    def parents(self) -> dict[str, str | None]:
        """{model: parent} in manifest order: what the analysis functions take."""
        return dict(self.lineage.parents)


def results_path(run_dir: str | Path) -> Path:
    return Path(run_dir) / RESULTS_FILE


def manifest_path(run_dir: str | Path) -> Path:
    return Path(run_dir) / MANIFEST_FILE


def read_run(run_dir: str | Path) -> Run:
    """The manifest, results and lineage of a run directory, checked (AuditError naming the
    file and the field or column otherwise)."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise AuditError(run_dir, "not a directory: expected a run directory written by "
                                  "'auditkit run'")
    manifest = load_manifest(manifest_path(run_dir))
    lineage = manifest.lineage                  # checked by load_manifest
    return Run(run_dir, manifest, read_results(results_path(run_dir), lineage.names), lineage)


def write_results(run_dir: str | Path, results: pd.DataFrame) -> Path:
    """Write ``RUN_DIR/results.parquet`` atomically; returns its path."""
    return _write_results_file(results_path(run_dir), results)


def write_manifest(run_dir: str | Path, manifest: RunManifest) -> Path:
    """Write ``RUN_DIR/manifest.json`` atomically; returns its path."""
    path = manifest_path(run_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(manifest_json(manifest), indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path


def write_run(run_dir: str | Path, results: pd.DataFrame, manifest: RunManifest) -> Path:
    """Write a whole run directory (results first: a run is complete once its manifest is);
    a file that cannot be written (no space, no permission) is an AuditError naming it."""
    try:
        write_results(run_dir, results)
        write_manifest(run_dir, manifest)
    except OSError as exc:
        raise AuditError(getattr(exc, "filename", None) or run_dir, "cannot write the run "
                         f"directory: {exc.strerror or exc}") from None
    return Path(run_dir)
