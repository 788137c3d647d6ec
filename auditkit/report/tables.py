"""The report's tables, built once and rendered twice (HTML and Markdown).

A :class:`Cell` holds the text shown and the value behind it (what sortable HTML tables sort
by and what tests compare with the analysis tables).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from auditkit.analyze.summary import Analysis
from auditkit.present import count, missing, num, num_ci, pct, pct_ci, plain, pval
from auditkit.store import RunManifest


@dataclass(frozen=True)
class Cell:
    text: str
    value: Any = None           # number (or string) behind the text; None: sort by text
    title: str = ""             # tooltip (e.g. a full fingerprint)


@dataclass(frozen=True)
class Column:
    label: str
    numeric: bool = False
    help: str = ""
    wrap: bool = False          # long free text (wraps); other cells stay on one line


@dataclass(frozen=True)
class Table:
    id: str
    title: str
    columns: tuple[Column, ...]
    rows: tuple[tuple[Cell, ...], ...]
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def text(value: Any) -> Cell:
    return Cell("" if value is None else str(value), None)


def rate_cell(rate: Any, lo: Any, hi: Any) -> Cell:
    return Cell(pct_ci(rate, lo, hi), plain(rate))


def num_cell(x: Any, formatted: str | None = None) -> Cell:
    return Cell(num(x) if formatted is None else formatted, plain(x))


def p_cell(p: Any) -> Cell:
    return Cell(pval(p), plain(p))


def count_cell(n: Any) -> Cell:
    return Cell(count(n), plain(n))


def models_table(manifest: RunManifest) -> Table:
    cols = (Column("model"), Column("parent"), Column("kind"), Column("fingerprint"),
            Column("intent", wrap=True))
    rows = tuple((text(m.name), text(m.parent or "—"), text(m.kind),
                  Cell(m.fingerprint[:12], None, m.fingerprint), text(m.intent))
                 for m in manifest.models)
    return Table("models", "Models", cols, rows)


def probes_table(manifest: RunManifest) -> Table:
    cols = (Column("probe"), Column("kind"), Column("category"), Column("dimension"),
            Column("items", True), Column("version"))
    rows = tuple((text(p.name), text(p.kind), text(p.category), text(p.dimension),
                  count_cell(p.n_items), Cell(p.version[:12], None, p.version))
                 for p in manifest.probes)
    return Table("probes", "Probes", cols, rows)


def rates_summary_table(analysis: Analysis, order: Sequence[str]) -> Table:
    """Per model (lineage order): pooled failure rate and each category's, with intervals."""
    rates = analysis.rates
    cats = list(pd.unique(rates.loc[rates["level"] == "category", "scope"]))
    cols = (Column("model"), Column("parent"), Column("items", True),
            Column("failure rate, all", True, "pooled over every probe; 95% Wilson interval"),
            *(Column(f"{c}", True, f"failure rate on the {c} probes") for c in cats))
    lookup = {(r.level, r.scope, r.model): r for r in rates.itertuples()}
    rows = []
    for model in order:
        pooled = lookup.get(("pooled", "all", model))
        if pooled is None:
            continue
        cells = [text(model), text(pooled.parent if isinstance(pooled.parent, str) else "—"),
                 count_cell(pooled.n_items), rate_cell(pooled.rate, pooled.rate_lo, pooled.rate_hi)]
        for c in cats:
            r = lookup.get(("category", c, model))
            cells.append(rate_cell(r.rate, r.rate_lo, r.rate_hi) if r else text(""))
        rows.append(tuple(cells))
    return Table("rates", "Failure rates per model", cols, tuple(rows),
                 "Percent of items failed, with 95% Wilson intervals in brackets.")


CHANCE_NOTE = ("failure rate of a model with no preference: 50% of pair items, (k - 1)/k of "
               "k-option items; none for generation")


def _chance_cell(r: Any) -> Cell:   # r: a rates or scopes itertuple (older analyses lack it)
    chance = getattr(r, "chance_rate", None)
    return Cell(pct(chance), plain(chance)) if not missing(chance) else text("—")


def rates_long_table(analysis: Analysis, order: Sequence[str]) -> Table:
    """Every model on every probe: items, failures, rate and interval."""
    rank = {m: j for j, m in enumerate(order)}
    rates = analysis.rates[analysis.rates["level"] == "probe"]
    rates = rates.assign(_r=rates["model"].map(rank)).sort_values(["scope", "_r"], kind="stable")
    cols = (Column("probe"), Column("model"), Column("items", True), Column("failed", True),
            Column("failure rate", True, "95% Wilson interval"),
            Column("chance", True, CHANCE_NOTE))
    rows = tuple((text(r.scope), text(r.model), count_cell(r.n_items), count_cell(r.n_failed),
                  rate_cell(r.rate, r.rate_lo, r.rate_hi), _chance_cell(r))
                 for r in rates.itertuples())
    return Table("rates-probe", "Failure rates per model and probe", cols, rows)


def scopes_table(analysis: Analysis) -> Table:
    """Per probe, category and pooled: H, effective number, independence and Mantel tests."""
    cols = (Column("level"), Column("scope"), Column("items", True), Column("mean rate", True),
            Column("chance", True, CHANCE_NOTE + " (over the pair and choice items)"),
            Column("mean κ", True, "mean error consistency over pairs of models"),
            Column("H [95% CI]", True, "homogenization ratio; 1 for independent models"),
            Column("eff. models", True, "effective number of independent models"),
            Column("all fail", True, "share of items every model fails"),
            Column("independence p", True, "permutation test, Holm-corrected"),
            Column("Mantel r", True, "behaviour distance vs lineage distance"),
            Column("Mantel p", True, "Holm-corrected"))
    rows = tuple(_scope_row(r) for r in analysis.scopes.itertuples())
    return Table("scopes", "Correlated failure per probe, category and pooled", cols, rows)


def _scope_row(r: Any) -> tuple[Cell, ...]:   # r: a scopes itertuple
    H = (Cell(r.H_family_reason, None) if r.H_family_reason
         else num_cell(r.H_family, num_ci(r.H_family, r.H_family_lo, r.H_family_hi)))
    return (text(r.level), text(r.scope), count_cell(r.n_items), Cell(pct(r.mean_rate),
            plain(r.mean_rate)), _chance_cell(r), num_cell(r.mean_kappa, num(r.mean_kappa, 2)), H,
            num_cell(r.effective_n, _effective(r)),
            Cell(pct(r.all_fail_rate, 1), plain(r.all_fail_rate)), p_cell(r.independence_p_holm),
            num_cell(r.mantel_r, num(r.mantel_r, 2)), p_cell(r.mantel_p_holm))


def _effective(r: Any) -> str:   # r: a scopes itertuple
    return f"{num_ci(r.effective_n, r.effective_n_lo, r.effective_n_hi, 2)} of {r.n_models}"


EDGE_COLUMNS = (
    Column("parent"), Column("child"), Column("parent rate", True), Column("child rate", True),
    Column("inherited", True, "items both fail (n11)"),
    Column("introduced", True, "items only the child fails (n01)"),
    Column("fixed", True, "items only the parent fails (n10)"),
    Column("P(fail | parent fails)", True, "the child's failure rate on the items its parent "
                                           "fails; 95% Wilson interval"),
    Column("P(fail | parent passes)", True, "the child's failure rate on the items its parent "
                                            "passes; 95% Wilson interval"),
    Column("relative risk", True), Column("McNemar p", True, "exact test on n01 vs n10"),
    Column("Holm p", True, "McNemar p, Holm-corrected across the edge's scopes of this level"))


def edges_table(analysis: Analysis, level: str, *, id: str, title: str) -> Table:
    """Inheritance along each lineage edge at one level (pooled, category or probe)."""
    edges = analysis.edges[analysis.edges["level"] == level]
    scoped = level != "pooled"
    cols = ((Column("scope"),) if scoped else ()) + EDGE_COLUMNS
    rows = tuple(((text(r.scope),) if scoped else ()) + _edge_row(r) for r in edges.itertuples())
    return Table(id, title, cols, rows)


def _edge_row(r: Any) -> tuple[Cell, ...]:   # r: an edges itertuple
    return (text(r.parent), text(r.child), Cell(pct(r.parent_rate), plain(r.parent_rate)),
            Cell(pct(r.child_rate), plain(r.child_rate)), count_cell(r.n11), count_cell(r.n01),
            count_cell(r.n10),
            rate_cell(r.inherited_rate, r.inherited_rate_lo, r.inherited_rate_hi),
            rate_cell(r.introduced_rate, r.introduced_rate_lo, r.introduced_rate_hi),
            num_cell(r.rr, num_ci(r.rr, r.rr_lo, r.rr_hi, 2)), p_cell(r.mcnemar_p),
            p_cell(r.mcnemar_p_holm))


def blast_table(analysis: Analysis) -> Table:
    """Per root and scope (pooled and categories): blast radius and base-attributable share."""
    blast = analysis.blast[analysis.blast["level"] != "probe"]
    cols = (Column("root"), Column("scope"), Column("descendants", True),
            Column("root failures", True),
            Column("blast radius", True, "share of descendants that keep a root failure"),
            Column("if independent", True),
            Column("kept by all", True, "share of root failures every descendant keeps"),
            Column("base-attributable share", True, "descendants' failures on items the root "
                                                    "also fails"),
            Column("if independent ", True))
    rows = tuple((text(r.root), text(r.scope), count_cell(r.n_descendants),
                  count_cell(r.n_root_failures), rate_cell(r.blast, r.blast_lo, r.blast_hi),
                  Cell(pct(r.blast_baseline), plain(r.blast_baseline)),
                  rate_cell(r.everyone, r.everyone_lo, r.everyone_hi),
                  rate_cell(r.base_share, r.base_share_lo, r.base_share_hi),
                  Cell(pct(r.base_share_baseline), plain(r.base_share_baseline)))
                 for r in blast.itertuples())
    return Table("blast", "What the roots pass down", cols, rows)
