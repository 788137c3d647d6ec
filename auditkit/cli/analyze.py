"""``auditkit analyze RUN_DIR``: the correlated-failure analysis of a run's results."""
from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.markup import escape
from rich.table import Table

from auditkit.cli._common import console, handles_errors

if TYPE_CHECKING:  # the analysis (pandas, scipy) loads only when a command runs
    import pandas as pd

    from auditkit.analyze.summary import Analysis


@handles_errors
def analyze(
    run_dir: Path = typer.Argument(..., help="A run directory (manifest.json + results.parquet)."),
    seed: int = typer.Option(0, "--seed", help="Seed of the bootstrap and permutation draws."),
    bootstrap: int = typer.Option(1000, "--bootstrap", min=0,
                                  help="Bootstrap resamples of the items for intervals (0: none)."),
    permutations: int = typer.Option(1000, "--permutations", min=0,
                                     help="Permutations for the independence and Mantel tests."),
    workers: int = typer.Option(1, "--workers", min=1, help="Processes that analyse the scopes "
                                "(probes, categories, pool) in parallel; the tables do not "
                                "depend on it (each scope has its own seed)."),
) -> None:
    """Analyse RUN_DIR's failures; writes RUN_DIR/analysis/ and prints the headline numbers."""
    from auditkit.analyze.io import analyze_run

    analysis = analyze_run(run_dir, seed=seed, n_bootstrap=bootstrap, n_permutations=permutations,
                           workers=workers)
    print_analysis(analysis, run_dir)


def print_analysis(analysis: Analysis, run_dir: Path) -> None:
    """The per-scope and per-edge tables, then the pooled headline numbers."""
    console.print(scope_table(analysis))
    console.print(edge_table(analysis))
    if not analysis.native.empty:
        console.print(native_table(analysis))
    h = analysis.headline
    console.print(f"Pooled: {h['n_models']} models x {h['n_items']} items; H = "
                  f"{_h(h['H_family'], h['H_family_lo'], h['H_family_hi'], h['H_family_reason'])}; "
                  f"effective number of models {_num(h['effective_n'])} of {h['n_models']}.",
                  highlight=False)
    console.print(f"p-values corrected across probes with "
                  f"{analysis.parameters['multiple_comparisons']['method'].capitalize()}; "
                  f"tables in {escape(str(Path(run_dir) / 'analysis'))}", highlight=False)


def _num(x: object, digits: int = 3) -> str:
    """A number (or table cell) to ``digits`` significant digits; ``-`` for None or NaN."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    return f"{x:.{digits}g}"


def _h(h: object, lo: object, hi: object, reason: object) -> str:
    if reason:
        return str(reason)
    return f"{_num(h)} [{_num(lo, 2)}, {_num(hi, 2)}]"


def native_table(analysis: Analysis) -> Table:
    """Each benchmark's native metrics on all its items, one column per model, and how many
    of their lineage changes are significant after Holm."""
    native = analysis.native[analysis.native["subset"] == "all"]
    models = list(dict.fromkeys(native["model"]))
    n_sig = analysis.headline.get("n_native_changes_significant", 0)
    table = Table(title=f"Benchmarks (all items); {n_sig} lineage changes significant (Holm)")
    table.add_column("metric", overflow="fold", min_width=16)
    for model in models:
        table.add_column(escape(str(model)), justify="right")
    for (bench, metric), rows in native.groupby(["benchmark", "metric"], sort=False):
        values = dict(zip(rows["model"], rows["value"]))
        table.add_row(escape(f"{bench}.{metric}"), *(_num(values.get(m)) for m in models))
    return table


def scope_table(analysis: Analysis) -> Table:
    """One line per scope: sizes, mean rate, kappa, H, effective number, Holm-corrected tests."""
    table = Table(title="Correlated failure per scope")
    for col in ("scope", "items", "rate", "kappa", "H (95% CI)", "eff. n", "indep. p",
                "Mantel r (p)"):
        table.add_column(col, justify="left" if col == "scope" else "right",
                         no_wrap=col == "scope")
    for row in analysis.scopes.itertuples():
        name = str(row.scope) if row.level == "probe" else f"[bold]{row.level}: {row.scope}[/]"
        table.add_row(escape(name) if row.level == "probe" else name, str(row.n_items),
                      _num(row.mean_rate), _num(row.mean_kappa),
                      _h(row.H_family, row.H_family_lo, row.H_family_hi, row.H_family_reason),
                      f"{_num(row.effective_n)}/{row.n_models}", _num(row.independence_p_holm),
                      f"{_num(row.mantel_r)} ({_num(row.mantel_p_holm)})")
    return table


def edge_table(analysis: Analysis) -> Table:
    """Pooled inheritance along each lineage edge."""
    table = Table(title="Inheritance along lineage edges (pooled)")
    for col in ("edge", "parent rate", "child rate", "inherited", "introduced", "RR",
                "McNemar p"):
        table.add_column(col, justify="left" if col == "edge" else "right")
    edges: pd.DataFrame = analysis.edges[analysis.edges["level"] == "pooled"]
    for row in edges.itertuples():
        table.add_row(escape(f"{row.parent} -> {row.child}"), _num(row.parent_rate),
                      _num(row.child_rate),
                      f"{_num(row.inherited_rate, 2)} [{_num(row.inherited_rate_lo, 2)}, "
                      f"{_num(row.inherited_rate_hi, 2)}]",
                      f"{_num(row.introduced_rate, 2)} [{_num(row.introduced_rate_lo, 2)}, "
                      f"{_num(row.introduced_rate_hi, 2)}]", _num(row.rr),
                      _num(row.mcnemar_p))
    return table
