"""Dataset-native metrics: each public benchmark's own metric (CrowS-Pairs' stereotype score,
BBQ's bias scores, ...) per model with intervals, and its change along the lineage.

One module per benchmark registers it (:func:`register_benchmark`); docs/probes/importers.md,
"Dataset-native metrics", defines each metric with its source.
"""
from auditkit.analyze.native import (  # noqa: F401 (imported to register)
    attacks,
    bbq,
    crows_pairs,
    truthfulqa,
    winobias,
    winogender,
    xstest,
)
from auditkit.analyze.native.base import (
    ALL,
    ITEM_COLUMNS,
    Benchmark,
    Metric,
    benchmark_for,
    benchmarks,
    get_benchmark,
    metric_names,
    register_benchmark,
)
from auditkit.analyze.native.engine import (
    EDGE_COLUMNS,
    NATIVE_COLUMNS,
    holm_with_probe_edges,
    native_tables,
)
from auditkit.analyze.native.items import (
    NATIVE_ITEMS_FILE,
    item_table,
    read_native_items,
    write_native_items,
)

__all__ = ["ALL", "EDGE_COLUMNS", "ITEM_COLUMNS", "NATIVE_COLUMNS", "NATIVE_ITEMS_FILE",
           "Benchmark", "Metric", "benchmark_for", "benchmarks", "get_benchmark",
           "holm_with_probe_edges", "item_table", "metric_names", "native_tables",
           "read_native_items", "register_benchmark", "write_native_items"]
