"""The report's judges: who made each generation probe's numbers, how far to trust them, and
which significant lineage changes rest on replies the judge is unsure about.

Built from the gate's pure functions (:mod:`auditkit.gate.judges` for who judged what,
:mod:`auditkit.gate.robust` for the recomputation on the gate's comparison), so the report and
``auditkit gate`` say the same of the same results. A significant edge is a probe-level lineage
edge of the analysis whose Holm-corrected McNemar p is below the report's alpha.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import pandas as pd

from auditkit.gate.compare import compare
from auditkit.gate.judges import (
    LABEL_WORDS,
    LABELS,
    NOT_RECORDED,
    JudgeRef,
    JudgeUse,
    judged_by,
    judges_used,
    probe_judges,
    use_record,
)
from auditkit.gate.robust import Unsure, edge_unsure
from auditkit.present import pct, plain
from auditkit.report.load import RunReportData
from auditkit.report.tables import Cell, Column, Table, count_cell, p_cell, text


@dataclass(frozen=True)
class EdgeUnsure:
    """A significant change along a lineage edge on a generation probe, and its unsure
    replies."""

    parent: str
    child: str
    probe: str
    judge: str                 # JudgeRef.label
    n_new: int                 # n01 (the analysis')
    n_fixed: int               # n10
    mcnemar_p_holm: float      # the analysis' Holm-corrected p (significant)
    unsure: Unsure


@dataclass(frozen=True)
class JudgesView:
    below: float                         # the unsure threshold
    alpha: float                         # the report's significance level
    probes: Mapping[str, JudgeRef]       # generation probe -> its judge
    uses: tuple[JudgeUse, ...]
    edges: tuple[EdgeUnsure, ...]

    def label(self, probe: str) -> str | None:
        """The probe's judge ('default 3', 'not recorded'); None when it is not judged."""
        ref = self.probes.get(probe)
        return None if ref is None else ref.label


def judges_view(data: RunReportData, order: Sequence[str], *, alpha: float,
                below: float) -> JudgesView:
    """Every judge of the run (agreement from the manifest) and every significant generation
    edge recomputed without its unsure discordant items."""
    refs = probe_judges(data.results, data.manifest)
    uses = judges_used(data.results, data.manifest, below=below, models=order)
    edges = significant_edges(data.analysis.edges, set(refs), alpha)
    return JudgesView(below, alpha, refs, uses,
                      tuple(_edge_unsures(data.results, edges, refs, alpha, below)))


def significant_edges(edges: pd.DataFrame, probes: set[str], alpha: float) -> pd.DataFrame:
    """Probe-level edges on ``probes`` whose Holm-corrected McNemar p is below ``alpha``."""
    rows = edges[(edges["level"] == "probe") & edges["scope"].isin(probes)]
    found: pd.DataFrame = rows[rows["mcnemar_p_holm"] < alpha]
    return found


def _edge_unsures(results: pd.DataFrame, edges: pd.DataFrame, refs: Mapping[str, JudgeRef],
                  alpha: float, below: float) -> list[EdgeUnsure]:
    out = []
    for (parent, child), rows in edges.groupby(["parent", "child"], sort=False):
        comparison = compare(results, candidate=str(child), parent=str(parent))
        for r in rows.to_dict("records"):
            probe = str(r["scope"])
            unsure = edge_unsure(comparison, probe, alpha=alpha, below=below)
            out.append(EdgeUnsure(str(parent), str(child), probe, refs[probe].label,
                                  int(r["n01"]), int(r["n10"]), float(r["mcnemar_p_holm"]),
                                  unsure))
    return out


# ---------------------------------------------------------------- words

def judge_sentences(view: JudgesView) -> list[str]:
    """The verdict's lines on judges: who judged, and which conclusions rest on unsure
    replies."""
    out = [_judge_sentence(use) for use in view.uses]
    resting = [e for e in view.edges if e.unsure.n_unsure]
    if view.edges:
        failing = sum(not e.unsure.holds for e in resting)
        out.append(f"Significant lineage changes on generation probes: {len(view.edges)}; "
                   f"resting on replies the judge is unsure about (confidence < "
                   f"{view.below:g}): {len(resting)}; not holding without those replies: "
                   f"{failing} (see Judges).")
    return out


def judges_intro(view: JudgesView) -> str:
    """What the Judges section is about, in words."""
    if not view.uses:
        return "No reply was judged: this run has no generation probe."
    return ("Generation probes fail or pass on a judge's label of each reply (full compliance, "
            "partial refusal, full refusal; docs/judge.md), so their numbers are as good as the "
            f"judge. A reply is unsure when the judge's confidence in its label is below "
            f"{view.below:g}. Each significant lineage change on a generation probe (Holm p < "
            f"{view.alpha:g}) is recomputed without its discordant items judged unsure in "
            "either model.")


def _judge_sentence(use: JudgeUse) -> str:
    probes = ", ".join(use.probes)
    if not use.judge.recorded:
        return (f"The judge of the replies on {probes} was not recorded by this run, nor its "
                "agreement with human labels.")
    return (f"Replies on {probes} were judged by {use.judge.label} (measured agreement with "
            f"human labels: {use.judge.agreement_text}); unsure replies (confidence < "
            f"{use.below:g}): {use.unsure_text}.")


# ---------------------------------------------------------------- tables

def judges_table(view: JudgesView) -> Table:
    cols = (Column("judge"), Column("version"), Column("probes", wrap=True),
            Column("agreement with human labels", help="as the judge measured it on held-out "
                   "human-labelled replies (docs/judge.md)", wrap=True),
            Column("replies", True),
            Column(f"unsure (confidence < {view.below:g})", True))
    rows = tuple((text(u.judge.name or NOT_RECORDED), text(u.judge.version or "—"),
                  text(", ".join(u.probes)), text(u.judge.agreement_text),
                  count_cell(u.n_replies), Cell(u.unsure_text, plain(u.unsure_rate)))
                 for u in view.uses)
    return Table("judges", "Judges of the generation probes", cols, rows)


def labels_table(view: JudgesView) -> Table:
    cols = (Column("judge"), Column("model"),
            *(Column(LABEL_WORDS[k], True) for k in LABELS))
    rows = tuple((text(u.judge.label), text(model), *_label_cells(u, counts))
                 for u in view.uses for model, counts in u.labels.items())
    return Table("judge-labels", "Labels per model (three-way, XSTest)", cols, rows)


def _label_cells(use: JudgeUse, counts: Mapping[str, int]) -> list[Cell]:
    if not use.judge.recorded:
        return [text(NOT_RECORDED) for _ in LABELS]
    total = sum(counts.values())
    return [Cell(f"{counts[k]:,} ({pct(counts[k] / total if total else None)})", counts[k])
            for k in LABELS]


def unsure_edges_table(view: JudgesView) -> Table:
    cols = (Column("parent"), Column("child"), Column("probe"), Column("judge"),
            Column("introduced", True, "items only the child fails (n01)"),
            Column("fixed", True, "items only the parent fails (n10)"),
            Column("Holm p", True),
            Column("unsure", True, "discordant items with a reply judged with confidence < "
                   f"{view.below:g} in either model"),
            Column("Holm p without them", True), Column("without them", wrap=True))
    rows = tuple((text(e.parent), text(e.child), text(e.probe), text(e.judge),
                  count_cell(e.n_new), count_cell(e.n_fixed), p_cell(e.mcnemar_p_holm),
                  Cell(f"{e.unsure.n_unsure} of {e.unsure.n_discordant}", e.unsure.n_unsure),
                  p_cell(e.unsure.adjusted_p if e.unsure.n_unsure else None),
                  text(_conclusion(e.unsure)))
                 for e in view.edges)
    return Table("unsure-edges", "Significant lineage changes on generation probes", cols, rows,
                 "Each change recomputed without its discordant items judged unsure: McNemar's "
                 "exact test, Holm-corrected across the edge's probes as before.")


def _conclusion(u: Unsure) -> str:
    if not u.n_unsure:
        return u.text
    return "holds" if u.holds else "does not hold"


def with_judge_column(table: Table, view: JudgesView) -> Table:
    """``table`` with a last column 'judge': who judged the probe of each row (its 'probe'
    column, or 'scope' on probe-level rows: a 'level' column, when there is one, says which
    rows are probes); a dash for probes nobody judged. Last, so the other columns keep their
    places."""
    labels = [c.label for c in table.columns]
    at = labels.index("probe") if "probe" in labels else labels.index("scope")
    level = labels.index("level") if "level" in labels else None
    help_text = "who judged the replies (generation probes; docs/judge.md)"

    def cell(row: tuple[Cell, ...]) -> Cell:
        is_probe = level is None or row[level].text == "probe"
        return text((view.label(row[at].text) if is_probe else None) or "—")

    return _insert(table, len(labels), Column("judge", help=help_text), cell)


def with_unsure_column(table: Table, view: JudgesView) -> Table:
    """The per-probe edges table with each significant generation change's unsure replies."""
    labels = [c.label for c in table.columns]
    scope, parent, child = (labels.index(k) for k in ("scope", "parent", "child"))
    found = {(e.parent, e.child, e.probe): e.unsure.text for e in view.edges}

    def cell(row: tuple[Cell, ...]) -> Cell:
        return text(found.get((row[parent].text, row[child].text, row[scope].text), ""))

    return _insert(table, len(labels), Column("unsure replies", wrap=True, help=(
        "significant changes on generation probes: discordant items judged with confidence < "
        f"{view.below:g}, and the test without them")), cell)


def _insert(table: Table, at: int, column: Column, cell: Any) -> Table:
    rows = tuple(row[:at] + (cell(row),) + row[at:] for row in table.rows)
    return replace(table, columns=table.columns[:at] + (column,) + table.columns[at:], rows=rows)


# ---------------------------------------------------------------- summary.json

def judges_record(view: JudgesView) -> dict[str, Any]:
    """summary.json's ``judges``: threshold, each judge's use, each generation probe's judge
    and each significant generation edge with its unsure replies."""
    return {"confidence_below": view.below, "alpha": view.alpha,
            "judges": [use_record(u) for u in view.uses],
            "probes": {p: {"name": r.name or None, "version": r.version or None,
                           "label": r.label} for p, r in view.probes.items()},
            "significant_edges": [{"parent": e.parent, "child": e.child, "judge": e.judge,
                                   "n_new": e.n_new, "n_fixed": e.n_fixed,
                                   "mcnemar_p_holm": e.mcnemar_p_holm, **e.unsure.record()}
                                  for e in view.edges]}


def rates_caption(view: JudgesView) -> str:
    """What the rate chart's caption says about generation probes."""
    if not view.uses:
        return ""
    by = "; ".join(f"{', '.join(u.probes)}: {judged_by(u.judge.label)}" for u in view.uses)
    return f" Generation probes' failures are a judge's labels of the replies ({by})."


__all__ = ["EdgeUnsure", "JudgesView", "judge_sentences", "judges_intro", "judges_record",
           "judges_table",
           "judges_view", "labels_table", "rates_caption", "significant_edges",
           "unsure_edges_table", "with_judge_column", "with_unsure_column"]
