"""A candidate against its parent on each benchmark probe's native metrics: what the gate's
``native`` check reads (auditkit/gate/checks/native.py).

The gate decides probe by probe, so each metric is computed on one probe's items alone (subset
``all`` of that probe): for BBQ, imported one category per probe, that is the category's score.
"""
from __future__ import annotations

import pandas as pd

from auditkit.analyze.native.engine import EDGE_COLUMNS, native_tables

PROBE_CHANGE_COLUMNS = ["probe", *EDGE_COLUMNS]


def probe_changes(results: pd.DataFrame, items: pd.DataFrame, *, candidate: str, parent: str,
                  seed: int = 0, n_bootstrap: int = 1000,
                  n_permutations: int = 1000) -> pd.DataFrame:
    """One row per (benchmark probe, metric): parent and candidate values, the change with its
    paired-bootstrap interval and paired test (:func:`native_tables`' ``native_edges`` rows)."""
    pair = results[results["model"].isin([candidate, parent])]
    lineage = {parent: None, candidate: parent}
    frames = []
    for probe, rows in items.groupby("probe", sort=False):
        _, edges = native_tables(pair[pair["probe"] == probe], rows.assign(subset=""), lineage,
                                 seed=seed, n_bootstrap=n_bootstrap,
                                 n_permutations=n_permutations)
        frames.append(edges.assign(probe=str(probe)))
    table: pd.DataFrame = (pd.concat(frames, ignore_index=True) if frames
                           else pd.DataFrame(columns=PROBE_CHANGE_COLUMNS))
    ordered: pd.DataFrame = table[PROBE_CHANGE_COLUMNS]
    return ordered
