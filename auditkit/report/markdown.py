"""The Markdown report: the verdict and key tables in GitHub-flavoured Markdown.

It must fit a pull-request comment whatever the family size: the whole text stays under
MAX_CHARS; long tables are cut (the longest first) and each cut is noted. Every piece of text
from a model, an item or a name goes through :func:`auditkit.present.md_text`: no HTML, no
markup, no table-breaking ``|``, newlines as ``<br>``.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from auditkit.present import md_text
from auditkit.report.benchmarks import BenchmarkView
from auditkit.report.judges import JudgesView, judges_intro
from auditkit.report.lineage_trees import lineage_trees_md
from auditkit.report.systemic import Systemic
from auditkit.report.tables import Cell, Column, Table
from auditkit.report.tree import TreeNode, tree_rows
from auditkit.report.verdict import Flag

MAX_CHARS = 60_000
MAX_CELL = 160              # characters of one table cell
START_ROWS = 400            # rows per table before any cut
MIN_ROWS = 3
MAX_REASON = 600           # characters of one failed check's reason (judge and unsure notes)


def md_table(table: Table, limit: int) -> str:
    """A GFM table of at most ``limit`` rows, with a note saying how many were cut. Spaces at
    the edges of a cell mean nothing in Markdown: they are dropped."""
    head = "| " + " | ".join(md_text(c.label.strip()) for c in table.columns) + " |"
    rule = "|" + "|".join("---:" if c.numeric else "---" for c in table.columns) + "|"
    rows = ["| " + " | ".join(md_text(cell.text.strip(), MAX_CELL) for cell in row) + " |"
            for row in table.rows[:limit]]
    cut = len(table.rows) - limit
    note = f"\n_…{cut} more rows cut; see report.html or the Parquet tables._" if cut > 0 else ""
    return "\n".join([head, rule, *rows]) + note


@dataclass
class Part:
    """A piece of the document; ``render(limit)`` gives it with at most ``limit`` rows."""

    render: Callable[[int], str]
    rows: int               # rows it has in full
    limit: int = START_ROWS


def _fixed(text: str) -> Part:
    return Part(lambda _limit: text, 0, 0)


def _table(table: Table, title: str | None = None) -> Part:
    prefix = f"### {md_text(title)}\n\n" if title else ""
    return Part(lambda limit: prefix + md_table(table, limit), len(table.rows))


def fit(parts: list[Part], max_chars: int = MAX_CHARS) -> str:
    """Join the parts, cutting the widest table in half until the text fits ``max_chars``."""
    while True:
        texts = [p.render(min(p.limit, p.rows) if p.rows else 0) for p in parts]
        doc = "\n\n".join(texts) + "\n"
        if len(doc) < max_chars:
            return doc
        cuttable = [(len(t), j) for j, (t, p) in enumerate(zip(texts, parts))
                    if p.rows and min(p.limit, p.rows) > MIN_ROWS]
        if not cuttable:
            note = "\n\n_Report cut here to fit a comment; see report.html._\n"
            return doc[:max_chars - 1 - len(note)] + note
        j = max(cuttable)[1]
        parts[j].limit = max(MIN_ROWS, min(parts[j].limit, parts[j].rows) // 2)


def render_markdown(ctx: dict[str, Any], max_chars: int = MAX_CHARS) -> str:
    """The Markdown report of a view model (see auditkit.report.context)."""
    t = ctx["tables"]
    parts = [_fixed(_header(ctx)), _fixed(_verdict(ctx)), _fixed("## Lineage"), _tree(ctx["tree"]),
             _fixed(lineage_trees_md(ctx["lineage_trees"])),
             _fixed("## Failure rates"), _table(t["rates"]),
             _fixed("## Inheritance along lineage edges"), _table(t["edges"], "All probes pooled"),
             _table(t["blast"], "What the roots pass down"),
             _fixed("## Correlated failure per probe"), _table(t["scopes"]),
             *_benchmarks(ctx["benchmarks"]),
             *_judges(ctx["judges"], t),
             _fixed("## Systemic failures"), _systemic(ctx["systemic"]),
             _fixed("## Provenance\n\n" + _facts(ctx)), _table(t["models"], "Models"),
             _table(t["probes"], "Probes"), _fixed(_footer(ctx))]
    return fit(parts, max_chars)


def _header(ctx: dict[str, Any]) -> str:
    p, h = ctx["provenance"], ctx["headline"]
    return (f"# Family audit: {md_text(ctx['family'])}\n\n"
            f"_{h['n_models']} models · {h['n_items']:,} items · {h['n_probes']} probes · "
            f"run of "
            f"{md_text(p['created'])} on {md_text(p['device'])} · auditkit "
            f"{md_text(p['tool_version'])}_")


def _verdict(ctx: dict[str, Any]) -> str:
    v = ctx["verdict"]
    lines = ["## Verdict", "", *(md_text(s) + "\n" for s in v["sentences"])]
    if v["flags"]:
        lines.append(f"**Do not ship** ({len(v['flags'])} of {len(ctx['order'])} models):\n")
        lines += _flag_lines(v["flags"])
    else:
        lines.append("**No model fails the gate policy.**")
    if v["warnings"]:
        lines += ["", "Warnings (not blocking):", "", *_flag_lines(v["warnings"])]
    lines += ["", f"_{md_text(v['rule'])}_"]
    return "\n".join(lines)


def _flag_lines(flags: list[Flag], shown: int = 40) -> list[str]:
    lines = [f"- **{md_text(f.model)}** against {md_text(f.parent)}: "
             f"{'; '.join(md_text(r, MAX_REASON) for r in f.reasons)}" for f in flags[:shown]]
    if len(flags) > shown:
        lines.append(f"- _…{len(flags) - shown} more models; see report.html._")
    return lines


def _tree(nodes: tuple[TreeNode, ...]) -> Part:
    lines = tree_rows(nodes)

    def render(limit: int) -> str:
        body = ["  " * depth + f"- {md_text(line)}" for depth, line in lines[:limit]]
        if len(lines) > limit:
            body.append(f"- _…{len(lines) - limit} more models cut; see report.html._")
        return "\n".join(body)

    return Part(render, len(lines))


def _benchmarks(views: list[BenchmarkView]) -> list[Part]:
    """Each imported benchmark's own metrics per model and their change along the lineage."""
    if not views:               # nothing to say: the comment stays as short as before
        return []
    parts = [_fixed("## Benchmarks")]
    for v in views:
        source = f"\n\n_{md_text(v.citation)}_" if v.citation else ""
        notes = "".join(f"\n\n{md_text(n)}" for n in v.notes)
        parts += [_fixed(f"### {md_text(v.title)}{source}{notes}"), _table(v.values),
                  _table(v.changes_all, v.changes_all.title),
                  _fixed(f"_{md_text(v.changes_all.note)}_")]
    return parts


def _judges(view: JudgesView, t: dict[str, Table]) -> list[Part]:
    """Who judged the generation probes, the significant changes that rest on unsure replies
    and the labels per model."""
    parts = [_fixed("## Judges\n\n" + md_text(judges_intro(view)))]
    if view.uses:
        parts.append(_table(t["judges"]))
    if view.edges:
        parts.append(_table(t["unsure_edges"], t["unsure_edges"].title))
    if view.uses:
        parts.append(_table(t["judge_labels"], t["judge_labels"].title))
    return parts


SYSTEMIC_COLUMNS = (Column("probe"), Column("item"), Column("failed by", True), Column("item text"),
                    Column("most common failing answer"))


def _systemic(systemic: Systemic) -> Part:
    rows = tuple((Cell(it.probe), Cell(it.item), Cell(f"{it.n_failing} of {it.n_models}"),
                  Cell(" / ".join(f"{label}: {text}" for label, text in it.lines[:3])
                       or "(text unavailable)"),
                  Cell(next((a.text for a in it.answers if a.failed), "")))
                 for it in systemic.items)
    table = Table("systemic", "Systemic failures", SYSTEMIC_COLUMNS, rows)
    intro = (f"Items failed by at least {systemic.threshold} of the {systemic.n_models} models: "
             f"**{systemic.total}**" + (f" (the {len(rows)} most failed below)"
                                        if systemic.total > len(rows) else "") + ".")
    return Part(lambda limit: intro + ("\n\n" + md_table(table, limit) if rows else ""), len(rows))


def _facts(ctx: dict[str, Any]) -> str:
    p = ctx["provenance"]
    facts = [("device", f"{p['device']} {p['dtype']}".strip()), ("selection", p["selection"]),
             ("seed", p["seed"]), ("scoring config", p["config"]),
             ("analysis", ", ".join(f"{k} {v}" for k, v in p["analysis"].items()))]
    return "\n".join(f"- {k}: {md_text(v)}" for k, v in facts if v not in (None, ""))


def _footer(ctx: dict[str, Any]) -> str:
    return ("---\n_Full report with charts: `report.html`; headline numbers: `summary.json`; "
            "item-level results: `results.parquet`; every table: `analysis/*.parquet`._")
