"""What a dataset-native metric is, what a benchmark is, and the registry that names them.

A benchmark (CrowS-Pairs, BBQ, ...) recognizes the probes an importer made from its dataset
(by the probe's ``source``, which each importer writes; a renamed probe is still recognized),
turns each of their items into a row of attributes (``subset``, ``condition``, ``unit``, ...:
:data:`ITEM_COLUMNS`) and each scored outcome into 0/1 indicator columns. A metric is a function
of the sums of those indicators over the items of a subset (per model). Adding a benchmark is one
module calling :func:`register_benchmark`, imported in ``auditkit/analyze/native/__init__.py``.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from auditkit.types import Item, Probe

# the item attributes a benchmark gives (RUN_DIR/native_items.parquet, one row per item)
ITEM_COLUMNS: dict[str, str] = {
    "probe": "string", "item": "string", "benchmark": "string",
    "subset": "string",        # e.g. BBQ category, CrowS-Pairs bias type ("" : none)
    "condition": "string",     # e.g. ambig/disambig, pro/anti, male/female/neutral, safe/unsafe
    "unit": "string",          # the resampling unit (the item, or e.g. a WinoGender schema)
    "unknown": "int64",        # BBQ: index of the UNKNOWN answer; -1 otherwise
    "biased": "int64",         # BBQ: bit k set when answer k is a biased answer; 0 otherwise
}
# optional item attributes (absent from native_items.parquet files written before them):
# column -> (dtype, the value a reader fills in)
ITEM_OPTIONAL: dict[str, tuple[str, Any]] = {
    "true_options": ("int64", 0),  # TruthfulQA: bit k set when option k is a true answer, for
                                   # an item that carries all its true answers (MC2); else 0
}
ALL = "all"                    # the subset of every item of a benchmark

Sums = Mapping[str, np.ndarray]          # indicator name -> sums over units, any shape (...)
Formula = Callable[[Sums], np.ndarray]   # -> the metric, shape (...)


@dataclass(frozen=True)
class Metric:
    """A metric of the sums of a benchmark's indicators.

    A ``rate`` metric is ``sums[num] / sums[den]`` where ``den`` counts items whatever the model
    did: it gets a Wilson interval and, along the lineage, McNemar's exact test. Any other
    metric is a ``formula`` of the sums: a bootstrap interval over units and a paired
    permutation test. That includes a mean of per-item values in [0, 1] (:func:`mean_metric`),
    whose "indicator" is the item's value rather than 0/1.
    """

    name: str
    title: str
    formula: Formula
    rate: tuple[str, str] | None = None      # (numerator, denominator) for a share of items
    better: str = ""                         # "higher", "lower" or "" (neither: a bias score)
    # the indicator counting the items the metric is computed on, when not every item of the
    # benchmark counts (a mean over the items that have a value): the row's n_items
    count: str | None = None


def rate_metric(name: str, title: str, num: str, den: str, *, better: str = "") -> Metric:
    """The share ``num / den`` (NaN where ``den`` is 0)."""
    def formula(s: Sums) -> np.ndarray:
        return ratio(s[num], s[den])
    return Metric(name, title, formula, rate=(num, den), better=better)


def mean_metric(name: str, title: str, total: str, count: str, *, better: str = "") -> Metric:
    """The mean ``total / count`` of a per-item value (``total``: the value, ``count``: 1 for
    an item that has one); NaN where ``count`` is 0. Not a share of items: it gets the
    bootstrap interval and the paired permutation test."""
    def formula(s: Sums) -> np.ndarray:
        return ratio(s[total], s[count])
    return Metric(name, title, formula, better=better, count=count)


def ratio(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a / b elementwise, NaN where b is 0."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(b > 0, a / np.where(b > 0, b, 1.0), np.nan)


ItemRow = Callable[[Item], Mapping[str, Any]]
Indicators = Callable[[pd.DataFrame], pd.DataFrame]


@dataclass(frozen=True)
class Benchmark:
    """A public dataset with its own metrics.

    ``source`` is the prefix of the probe ``source`` its importer writes; ``item_row`` gives an
    item's attributes (a subset of :data:`ITEM_COLUMNS`); ``indicators`` maps result rows joined
    with the item attributes (results columns + ITEM_COLUMNS) to 0/1 indicator columns, one row
    per input row, in order.
    """

    name: str
    title: str
    citation: str
    source: str
    item_row: ItemRow
    indicators: Indicators
    metrics: tuple[Metric, ...]
    kinds: tuple[str, ...] = ()              # probe kinds it reads (others are not its probes)
    notes: tuple[str, ...] = field(default=())
    rank: int = 100                          # where tables and reports list it (lower first)

    def matches(self, probe: Probe) -> bool:
        return probe.source.startswith(self.source) and (not self.kinds
                                                          or probe.kind in self.kinds)

    def metric(self, name: str) -> Metric:
        for m in self.metrics:
            if m.name == name:
                return m
        raise KeyError(name)


_REGISTRY: dict[str, Benchmark] = {}


def register_benchmark(benchmark: Benchmark) -> Benchmark:
    if benchmark.name in _REGISTRY:
        raise ValueError(f"benchmark {benchmark.name!r} is registered twice")
    _REGISTRY[benchmark.name] = benchmark
    return benchmark


def benchmarks() -> list[Benchmark]:
    """Every registered benchmark, by rank (then name)."""
    return sorted(_REGISTRY.values(), key=lambda b: (b.rank, b.name))


def get_benchmark(name: str) -> Benchmark:
    return _REGISTRY[name]


def benchmark_for(probe: Probe) -> Benchmark | None:
    """The benchmark whose importer made ``probe``; None for other probes."""
    return next((b for b in _REGISTRY.values() if b.matches(probe)), None)


def metric_names() -> list[str]:
    """Every ``benchmark.metric`` name (what a gate policy writes)."""
    return [f"{b.name}.{m.name}" for b in benchmarks() for m in b.metrics]


def with_optional(items: pd.DataFrame) -> pd.DataFrame:
    """Item attributes with every optional column (:data:`ITEM_OPTIONAL`) a frame lacks filled
    in with its default."""
    lacking = {c: pd.Series(d, index=items.index, dtype=t)
               for c, (t, d) in ITEM_OPTIONAL.items() if c not in items.columns}
    return items.assign(**lacking) if lacking else items


def indicator_frame(columns: Mapping[str, np.ndarray], index: pd.Index) -> pd.DataFrame:
    """The indicator columns of a benchmark, on the result rows' index."""
    frame: pd.DataFrame = pd.DataFrame(dict(columns), index=index)
    return frame


def flag(x: pd.Series | np.ndarray) -> np.ndarray:
    """A boolean column as 0/1 floats."""
    return np.asarray(x, dtype=bool).astype(float)
