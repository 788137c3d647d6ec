"""Gathering a run's item-level results table from the cache."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from auditkit.errors import AuditError
from auditkit.store.cache import ResultCache
from auditkit.store.schema import Outcome, results_frame
from auditkit.types import Family, Item, Probe


def collect_results(family: Family, probes: Sequence[Probe], cache: ResultCache, config: str,
                    *, models: Sequence[str] | None = None) -> pd.DataFrame:
    """One row per (model, probe, item), models in family order; every outcome must be cached."""
    rows: list[dict[str, Any]] = []
    for node in family.models:
        if models is not None and node.name not in models:
            continue
        for probe in probes:
            ids = [item.id for item in probe.items]
            found = cache.get_many(node.fingerprint, probe.version, config, ids)
            if len(found) != len(ids):
                raise AuditError(cache.path, f"{len(ids) - len(found)} results of model "
                                 f"{node.name!r} on probe {probe.name!r} are missing; run the "
                                 "scoring again to complete them")
            rows.extend(_row(node.name, node.fingerprint, probe, item, found[item.id], config)
                        for item in probe.items)
    return results_frame(rows)


def _row(model: str, fingerprint: str, probe: Probe, item: Item, outcome: Outcome,
         config: str) -> dict[str, Any]:
    """One row of the results table: ResultKey, Outcome and ScoringKey columns."""
    return {"model": model, "fingerprint": fingerprint, "probe": probe.name,
            "probe_version": probe.version, "kind": probe.kind, "category": probe.category,
            "dimension": probe.dimension, "item": item.id, "group": item.group,
            "config": config, **outcome.to_dict()}
