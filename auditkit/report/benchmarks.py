"""The report's "Benchmarks" section: each imported benchmark's own metrics, grouped by
benchmark (analysis tables ``native`` and ``native_edges``; auditkit.analyze.native).

Per benchmark, two tables: every metric per subset with one column per model (value and 95%
interval), and its change along each lineage edge (paired-bootstrap interval, paired test,
Holm-corrected with the edge's probe tests).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from auditkit.analyze.native import ALL, get_benchmark
from auditkit.analyze.summary import Analysis
from auditkit.present import num, num_ci, pct_ci, plain
from auditkit.report.tables import Cell, Column, Table, p_cell, text

CHANGE_COLUMNS = (
    Column("subset"), Column("metric"), Column("parent"), Column("child"),
    Column("parent value", True), Column("child value", True),
    Column("change [95% CI]", True, "child minus parent; paired bootstrap over the items"),
    Column("test", help="McNemar's exact test for a share of items, else a paired "
                        "permutation test"),
    Column("p", True), Column("Holm p", True, "Holm-corrected with the edge's probe tests"))


SUBSETS_NOTE = "Per subset: report.html and analysis/native_edges.parquet."


@dataclass(frozen=True)
class BenchmarkView:
    name: str
    title: str
    citation: str
    notes: tuple[str, ...]
    values: Table
    changes: Table             # every subset (report.html)
    changes_all: Table         # subset "all" only (report.md, which must stay short)


def benchmark_views(analysis: Analysis, order: Sequence[str]) -> list[BenchmarkView]:
    """One view per benchmark with native metrics in the analysis, in the analysis' order."""
    native, edges = analysis.native, analysis.native_edges
    views = []
    for name in pd.unique(native["benchmark"]):
        bench = _known(str(name))
        title = bench.title if bench else str(name)
        mine = edges[edges["benchmark"] == name]
        views.append(BenchmarkView(
            str(name), title, bench.citation if bench else "", bench.notes if bench else (),
            values_table(native[native["benchmark"] == name], order, str(name), title),
            changes_table(mine, str(name), title),
            changes_table(mine[mine["subset"] == ALL], str(name),
                          f"{title}, all items", note=SUBSETS_NOTE)))
    return views


def _known(name: str) -> Any:
    try:
        return get_benchmark(name)
    except KeyError:
        return None


def value_cell(value: Any, lo: Any, hi: Any, interval: str) -> Cell:
    """A share in percent, any other metric as a number; the 95% interval in brackets."""
    shown = pct_ci(value, lo, hi) if interval == "wilson" else num_ci(value, lo, hi)
    return Cell(shown, plain(value))


def values_table(rows: pd.DataFrame, order: Sequence[str], name: str, title: str) -> Table:
    """Subset × metric rows, one column per model (lineage order)."""
    models = [m for m in order if m in set(rows["model"])]
    cols = (Column("subset"), Column("metric"), Column("items", True),
            *(Column(m, True) for m in models))
    out = []
    for (subset, metric), group in rows.groupby(["subset", "metric"], sort=False):
        by_model = {r.model: r for r in group.itertuples()}
        first = group.iloc[0]
        out.append((text(subset), Cell(str(first["title"]), None, str(metric)),
                    text(int(group["n_items"].max())),
                    *(value_cell(r.value, r.lo, r.hi, str(r.interval)) if (r := by_model.get(m))
                      else text("") for m in models)))
    return Table(f"native-{name}", f"{title}: native metrics per model", cols, tuple(out),
                 "Shares in percent with 95% Wilson intervals; other metrics (bias scores, "
                 "gaps, means such as TruthfulQA's MC2) with 95% bootstrap intervals.")


def changes_table(rows: pd.DataFrame, name: str, title: str, note: str = "") -> Table:
    """Each metric's change along each lineage edge."""
    out = tuple((text(r.subset), Cell(str(r.metric), None), text(r.parent), text(r.child),
                 Cell(num(r.parent_value), plain(r.parent_value)),
                 Cell(num(r.child_value), plain(r.child_value)),
                 Cell(num_ci(r.change, r.change_lo, r.change_hi), plain(r.change)),
                 text(r.test), p_cell(r.p_value), p_cell(r.p_holm))
                for r in rows.itertuples())
    return Table(f"native-changes-{name}", f"{title}: change along the lineage",
                 CHANGE_COLUMNS, out, note)


def benchmarks_record(analysis: Analysis) -> dict[str, Any]:
    """summary.json's ``benchmarks``: per benchmark, its metrics per model and per edge."""
    record: dict[str, Any] = {}
    for name in pd.unique(analysis.native["benchmark"]):
        values = analysis.native[analysis.native["benchmark"] == name]
        edges = analysis.native_edges[analysis.native_edges["benchmark"] == name]
        bench = _known(str(name))
        record[str(name)] = {
            "title": bench.title if bench else str(name),
            "citation": bench.citation if bench else "",
            "metrics": values.drop(columns=["benchmark"]).to_dict("records"),
            "changes": edges.drop(columns=["benchmark"]).to_dict("records")}
    return record
