"""The item attributes of a run's benchmark probes (:data:`ITEM_COLUMNS`) and their file.

``auditkit run`` writes ``RUN_DIR/native_items.parquet`` from the probes it scored, so the
analysis of a run needs no probe file. A run written before it (or by a library call that did
not write it) has its attributes read again from the run's probes, when they are still where
the manifest says and have the version the run scored; otherwise its native tables are empty.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from auditkit.analyze.native.base import ITEM_COLUMNS, ITEM_OPTIONAL, benchmark_for, with_optional
from auditkit.errors import AuditError
from auditkit.store import RunManifest
from auditkit.types import Probe

NATIVE_ITEMS_FILE = "native_items.parquet"


ALL_ITEM_COLUMNS = {**ITEM_COLUMNS, **{c: t for c, (t, _) in ITEM_OPTIONAL.items()}}


def item_table(probes: Sequence[Probe]) -> pd.DataFrame:
    """One row per item of each probe a registered benchmark recognizes (pure)."""
    rows: list[dict[str, Any]] = []
    for probe in probes:
        bench = benchmark_for(probe)
        if bench is None:
            continue
        for item in probe.items:
            row: dict[str, Any] = {"probe": probe.name, "item": item.id,
                                   "benchmark": bench.name, "subset": "", "condition": "",
                                   "unit": item.id, "unknown": -1, "biased": 0,
                                   **{c: d for c, (_, d) in ITEM_OPTIONAL.items()}}
            row.update(bench.item_row(item))
            rows.append(row)
    frame: pd.DataFrame = pd.DataFrame(rows, columns=list(ALL_ITEM_COLUMNS)).astype(
        ALL_ITEM_COLUMNS)
    return frame


def write_native_items(run_dir: str | Path, probes: Sequence[Probe]) -> Path:
    """Write ``RUN_DIR/native_items.parquet`` (empty when no probe is a benchmark's)."""
    path = Path(run_dir) / NATIVE_ITEMS_FILE
    tmp = path.with_name(path.name + ".tmp")
    item_table(probes).to_parquet(tmp, index=False)
    tmp.replace(path)
    return path


def read_native_items(run_dir: str | Path, manifest: RunManifest) -> pd.DataFrame:
    """The run's item attributes: its file, else its probes read again (see module doc)."""
    path = Path(run_dir) / NATIVE_ITEMS_FILE
    if path.is_file():
        try:
            frame: pd.DataFrame = pd.read_parquet(path)
        except (OSError, ValueError) as err:
            raise AuditError(path, f"cannot read the benchmark item attributes ({err}); "
                                   "delete the file to read them from the probes") from None
        missing = [c for c in ITEM_COLUMNS if c not in frame.columns]
        if missing:
            raise AuditError(path, f"column {missing[0]!r} is missing", field=missing[0])
        typed: pd.DataFrame = with_optional(frame).astype(ALL_ITEM_COLUMNS)
        return typed
    return item_table(_scored_probes(manifest))


def _scored_probes(manifest: RunManifest) -> list[Probe]:
    """The run's probes at the version it scored, from where the manifest says; [] when they
    cannot be read."""
    from auditkit.errors import ValidationError
    from auditkit.probes import load_probes

    where = manifest.probes_path
    versions = {p.name: p.version for p in manifest.probes}
    try:
        probes = load_probes(Path(where) if where else None)
    except (AuditError, ValidationError, OSError):
        return []
    return [p for p in probes if versions.get(p.name) == p.version]
