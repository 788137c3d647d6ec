"""Dataset-native metrics per model and along the lineage, from a run's results.

Pure: the results table (docs/run-format.md), the item attributes (:data:`ITEM_COLUMNS`, one
row per item of a benchmark's probes) and the lineage in; two tables out.

- ``native``: one row per (benchmark, subset, metric, model): the value and its 95% interval.
  A share of items (:attr:`Metric.rate`) gets Wilson's interval (Wilson 1927); any other metric
  the percentile interval of the bootstrap over resampling units (Efron 1979: items, or e.g.
  WinoGender's schemas), drawn once per (benchmark, subset) and shared by every model.
- ``native_edges``: one row per (benchmark, subset, metric, lineage edge): the child's value
  minus the parent's, a 95% paired-bootstrap interval of that change (the same resampled units
  for both models), and a paired test of no change: McNemar's exact test (McNemar 1947) on the
  units whose 0/1 indicator differs for a share of items, else a paired permutation test that
  swaps the two models' outcomes unit by unit (two-sided, (1 + #{|null| >= |observed|}) /
  (1 + P), Phipson & Smyth 2010). The analysis Holm-corrects these p-values together with the
  McNemar tests of the edge's probes (:func:`holm_with_probe_edges`).
"""
from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from auditkit.analyze.bootstrap import item_weights
from auditkit.analyze.native.base import ALL, Benchmark, Metric, benchmarks, with_optional
from auditkit.analyze.stats import holm, mcnemar_exact, percentile_interval, wilson_interval

KEY = ["benchmark", "subset", "metric"]
CHUNK = 100            # resamples or permutations drawn at once: memory ~ CHUNK x units
NATIVE_COLUMNS = [*KEY, "title", "better", "model", "n_items", "value", "lo", "hi", "interval"]
EDGE_COLUMNS = [*KEY, "parent", "child", "n_items", "parent_value", "child_value", "change",
                "change_lo", "change_hi", "test", "p_value"]


@dataclass(frozen=True)
class Cube:
    """The indicator sums of one (benchmark, subset): (models, units, indicators)."""

    models: list[str]
    columns: list[str]
    sums: np.ndarray           # (M, U, K)
    n_items: np.ndarray        # (M,) items each model was scored on

    def of(self, x: np.ndarray) -> dict[str, np.ndarray]:
        """Sums (..., K) as {indicator: (...)}."""
        return {c: x[..., k] for k, c in enumerate(self.columns)}


def native_tables(results: pd.DataFrame, items: pd.DataFrame,
                  parents: Mapping[str, str | None], *, seed: int = 0, n_bootstrap: int = 1000,
                  n_permutations: int = 1000) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(native, native_edges) for every benchmark with items in the run (module docstring)."""
    rows: list[dict[str, object]] = []
    edges: list[dict[str, object]] = []
    joined = _joined(results, items)
    present = set(pd.unique(joined["model"]))
    models = [m for m in parents if m in present]
    for bench in benchmarks():
        part = joined[joined["benchmark"] == bench.name]
        if part.empty:
            continue
        frame = pd.concat([part[["model", "probe", "unit", "subset"]],
                           bench.indicators(part)], axis=1)
        for subset in subsets(frame["subset"]):
            scoped = frame if subset == ALL else frame[frame["subset"] == subset]
            cube = unit_cube(scoped, models)
            rng = np.random.default_rng([seed, zlib.crc32(f"{bench.name}/{subset}".encode())])
            r, e = _subset_tables(bench, subset, cube, parents, rng, n_bootstrap,
                                  n_permutations)
            rows += r
            edges += e
    return (pd.DataFrame(rows, columns=NATIVE_COLUMNS),
            pd.DataFrame(edges, columns=EDGE_COLUMNS))


def _joined(results: pd.DataFrame, items: pd.DataFrame) -> pd.DataFrame:
    """Result rows of benchmark items, with the item attributes."""
    if items.empty:
        none: pd.DataFrame = results.iloc[0:0].assign(benchmark="", subset="", unit="",
                                                      condition="")
        return none
    left = results.astype({"model": str, "probe": str, "item": str})
    right = with_optional(items).astype({"probe": str, "item": str})
    joined: pd.DataFrame = left.merge(right, on=["probe", "item"], how="inner")
    return joined


def subsets(values: pd.Series) -> list[str]:
    """``all``, then each named subset when there are two or more."""
    named = sorted(v for v in pd.unique(values.astype(str)) if v)
    return [ALL, *named] if len(named) > 1 else [ALL]


def unit_cube(frame: pd.DataFrame, models: Sequence[str]) -> Cube:
    """Indicator sums per (model, unit); a model without a unit's items has zeros there."""
    columns = [c for c in frame.columns if c not in ("model", "probe", "unit", "subset")]
    units = pd.MultiIndex.from_frame(frame[["probe", "unit"]].drop_duplicates())
    sums = np.zeros((len(models), len(units), len(columns)))
    grouped = frame.groupby(["model", "probe", "unit"], sort=False)[columns].sum()
    present = set(grouped.index.get_level_values(0))
    for j, model in enumerate(models):
        if model in present:
            sums[j] = grouped.xs(model, level="model").reindex(units, fill_value=0).to_numpy(float)
    counts = frame.groupby("model").size()
    n_items = np.array([int(counts.get(m, 0)) for m in models])
    return Cube(list(models), columns, sums, n_items)


def _subset_tables(bench: Benchmark, subset: str, cube: Cube,
                   parents: Mapping[str, str | None], rng: np.random.Generator,
                   n_bootstrap: int, n_permutations: int,
                   ) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    reps = replicate_sums(cube, rng, n_bootstrap)                    # (M, B, K)
    value = {m.name: m.formula(cube.of(cube.sums.sum(axis=1))) for m in bench.metrics}  # (M,)
    samples = {m.name: m.formula(cube.of(reps)) for m in bench.metrics}               # (M, B)
    rows: list[dict[str, object]] = []
    for metric in bench.metrics:
        lo, hi = _intervals(metric, cube, samples[metric.name])
        rows += [{"benchmark": bench.name, "subset": subset, "metric": metric.name,
                  "title": metric.title, "better": metric.better, "model": model,
                  "n_items": int(counted(metric, cube)[j]),
                  "value": float(value[metric.name][j]),
                  "lo": float(lo[j]), "hi": float(hi[j]),
                  "interval": "wilson" if metric.rate else "bootstrap"}
                 for j, model in enumerate(cube.models)]
    edges: list[dict[str, object]] = []
    for parent, child in lineage_edges(cube.models, parents):
        p, c = cube.models.index(parent), cube.models.index(child)
        swapped = (permuted_sums(cube, p, c, rng, n_permutations)
                   if any(needs_permutation(m, cube, p, c) for m in bench.metrics) else None)
        edges += [{"benchmark": bench.name, "subset": subset, "metric": metric.name,
                   **edge_change(metric, cube, p, c, value[metric.name],
                                 samples[metric.name], swapped)}
                  for metric in bench.metrics]
    return rows, edges


def counted(metric: Metric, cube: Cube) -> np.ndarray:
    """(M,) the items each model's value of ``metric`` is computed on: its ``count``
    indicator's sum, else every item of the benchmark (subset) the model was scored on."""
    if metric.count is None:
        return cube.n_items
    return cube.of(cube.sums.sum(axis=1))[metric.count].astype(np.int64)


def replicate_sums(cube: Cube, rng: np.random.Generator, n_bootstrap: int) -> np.ndarray:
    """(M, B, K) indicator sums of B resamples of the units, the same for every model (so a
    difference of two models' replicates is the paired bootstrap); drawn CHUNK at a time."""
    m, u, k = cube.sums.shape
    out = np.empty((m, n_bootstrap, k))
    for start in range(0, n_bootstrap, CHUNK):
        weights = item_weights(rng, u, min(CHUNK, n_bootstrap - start)).astype(float)
        flat = weights @ cube.sums.transpose(1, 0, 2).reshape(u, m * k)      # (b, M K)
        out[:, start:start + len(weights)] = flat.reshape(-1, m, k).transpose(1, 0, 2)
    return out


def _intervals(metric: Metric, cube: Cube, samples: np.ndarray,
               ) -> tuple[np.ndarray, np.ndarray]:
    if metric.rate is None:
        return percentile_interval(samples.T)
    totals = cube.of(cube.sums.sum(axis=1))
    return wilson_interval(totals[metric.rate[0]], totals[metric.rate[1]])


def lineage_edges(models: Sequence[str],
                  parents: Mapping[str, str | None]) -> list[tuple[str, str]]:
    """(parent, child) for every model whose parent is also among ``models``."""
    return [(str(parents[m]), m) for m in models if parents.get(m) in models]


def edge_change(metric: Metric, cube: Cube, p: int, c: int, value: np.ndarray,
                samples: np.ndarray, swapped: tuple[np.ndarray, np.ndarray] | None,
                ) -> dict[str, object]:
    """The change from model p to model c: value, paired-bootstrap interval, paired test."""
    change = float(value[c] - value[p])
    lo, hi = percentile_interval((samples[c] - samples[p])[:, None])
    test, p_value = paired_test(metric, cube, p, c, change, swapped)
    return {"parent": cube.models[p], "child": cube.models[c],
            "n_items": int(min(counted(metric, cube)[[p, c]])),
            "parent_value": float(value[p]), "child_value": float(value[c]), "change": change,
            "change_lo": float(lo[0]), "change_hi": float(hi[0]), "test": test,
            "p_value": p_value}


def paired_test(metric: Metric, cube: Cube, p: int, c: int, change: float,
                swapped: tuple[np.ndarray, np.ndarray] | None) -> tuple[str, float]:
    """McNemar's exact test for a share of 0/1 units, else the paired permutation test."""
    if np.isnan(change):
        return "", float("nan")
    if metric.rate is not None and not needs_permutation(metric, cube, p, c):
        k_num, k_den = (cube.columns.index(x) for x in metric.rate)
        xp, xc = cube.sums[p], cube.sums[c]
        both = (xp[:, k_den] == 1) & (xc[:, k_den] == 1)
        b = int((both & (xp[:, k_num] == 1) & (xc[:, k_num] == 0)).sum())
        d = int((both & (xp[:, k_num] == 0) & (xc[:, k_num] == 1)).sum())
        return "mcnemar", float(mcnemar_exact(b, d))
    return "permutation", permutation_p(metric, cube, change, swapped)


def needs_permutation(metric: Metric, cube: Cube, p: int, c: int) -> bool:
    """Whether the edge's test of ``metric`` is the permutation test (not McNemar's)."""
    if metric.rate is None:
        return True
    k_den = cube.columns.index(metric.rate[1])
    return bool(max(cube.sums[p][:, k_den].max(initial=0),
                    cube.sums[c][:, k_den].max(initial=0)) > 1)


def permuted_sums(cube: Cube, p: int, c: int, rng: np.random.Generator,
                  n_permutations: int) -> tuple[np.ndarray, np.ndarray] | None:
    """(P, K) sums of model p's and model c's indicators with each unit's two outcomes swapped
    at random (a fair coin per unit and permutation), CHUNK permutations at a time; shared by
    every metric of the edge. None when ``n_permutations`` is 0."""
    if n_permutations <= 0:
        return None
    xp, xc = cube.sums[p], cube.sums[c]
    # small integer sums (0/1 indicators) are exact in float32; a mean metric's per-item
    # values (TruthfulQA MC2) are not, and keep float64
    exact = bool(np.all(np.abs(xc - xp) < 2 ** 24) and np.all(xc - xp == np.round(xc - xp)))
    dtype = np.float32 if exact else np.float64
    diff = (xc - xp).astype(dtype)                                      # (U, K)
    moved = np.concatenate([
        (rng.random((min(CHUNK, n_permutations - s), len(diff)), dtype=np.float32) < 0.5)
        .astype(dtype) @ diff for s in range(0, n_permutations, CHUNK)]).astype(float)
    return xp.sum(axis=0) + moved, xc.sum(axis=0) - moved


def permutation_p(metric: Metric, cube: Cube, change: float,
                  swapped: tuple[np.ndarray, np.ndarray] | None) -> float:
    """Two-sided paired permutation p-value (1 + #{|null| >= |observed|}) / (1 + P)."""
    if swapped is None:
        return float("nan")
    as_parent, as_child = swapped
    null = metric.formula(cube.of(as_child)) - metric.formula(cube.of(as_parent))
    tol = 1e-12 * max(1.0, abs(change))
    extreme = np.sum(np.abs(np.nan_to_num(null, nan=0.0)) >= abs(change) - tol)
    return float((1 + extreme) / (1 + len(null)))


def holm_with_probe_edges(edges: pd.DataFrame, native_edges: pd.DataFrame,
                          ) -> tuple[pd.Series, pd.Series]:
    """Holm (1979) over each lineage edge's tests together: the McNemar tests of its probes
    (``edges`` rows at level probe) and its native-metric tests. Returns the adjusted p-values
    of the probe-level edge rows (indexed as ``edges``) and of ``native_edges``."""
    probe_rows = edges[edges["level"] == "probe"]
    tests = pd.concat([
        pd.DataFrame({"parent": probe_rows["parent"], "child": probe_rows["child"],
                      "p": probe_rows["mcnemar_p"], "src": 0, "row": probe_rows.index}),
        pd.DataFrame({"parent": native_edges["parent"], "child": native_edges["child"],
                      "p": native_edges["p_value"], "src": 1, "row": native_edges.index})],
        ignore_index=True)
    adjusted = tests.groupby(["parent", "child"], sort=False)["p"].transform(
        lambda p: pd.Series(holm(p.to_numpy(float)), index=p.index))
    mine = tests["src"] == 1
    return (pd.Series(adjusted[~mine].to_numpy(), index=tests.loc[~mine, "row"].to_numpy()),
            pd.Series(adjusted[mine].to_numpy(), index=tests.loc[mine, "row"].to_numpy()))
