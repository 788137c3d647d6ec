"""Three lineage trees side by side: declared, from the weights, from the failures.

Declared: the run's manifest. From the weights: the manifest's ``lineage_check`` (written by
``run --check-lineage``; auditkit.family.infer). From the failures: the Chow-Liu tree of the
pooled error consistency (auditkit.analyze.behaviour_tree). A node whose parent differs from the
declared one is flagged.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from auditkit.analyze.behaviour_tree import behaviour_tree
from auditkit.present import md_text
from auditkit.report.charts import kappa_matrix
from auditkit.store import RunManifest

MD_EDGES = 12          # edges per tree in the Markdown report


@dataclass(frozen=True)
class TreeLine:
    name: str
    note: str                          # "distance 0.0108 · confidence 1.00", "κ 0.62"
    differs: bool                      # the parent is not the declared one
    children: tuple[TreeLine, ...]


@dataclass(frozen=True)
class LineageTrees:
    declared: tuple[TreeLine, ...]
    weights: tuple[TreeLine, ...]      # () when the run did not check its lineage
    behaviour: tuple[TreeLine, ...]
    warnings: tuple[str, ...]          # the check's disagreements
    agreement: str                     # share of declared edges the failure tree holds
    weights_used: bool                 # the run took inferred parents (--infer-lineage)


def lineage_trees(manifest: RunManifest, pooled_pairs: pd.DataFrame,
                  order: Sequence[str]) -> LineageTrees:
    """The view of the three trees over the run's scored models (``order``)."""
    declared = {m.name: m.parent for m in manifest.models if m.name in order}
    tree = behaviour_tree(list(order), kappa_matrix(pooled_pairs, order), declared)
    kappa = {c: f"κ {k:.2f}" for c, k in tree.kappa.items()}
    check = manifest.lineage_check
    weights: tuple[TreeLine, ...] = ()
    if check is not None:
        parents: dict[str, str | None] = {r: None for r in check.roots}
        parents.update({e.child: e.parent for e in check.edges})
        notes = {e.child: f"distance {e.distance:.4f} · confidence {e.confidence:.2f}"
                 for e in check.edges}
        weights = _forest(parents, notes, declared)
    agreement = "n/a" if tree.agreement != tree.agreement else f"{100 * tree.agreement:.0f}%"
    return LineageTrees(_forest(declared, {}, declared), weights,
                        _forest(tree.parents, kappa, declared),
                        check.warnings if check else (), agreement,
                        bool(check and check.used))


def _forest(parents: Mapping[str, str | None], notes: Mapping[str, str],
            declared: Mapping[str, str | None]) -> tuple[TreeLine, ...]:
    children: dict[str | None, list[str]] = {}
    for name, parent in parents.items():
        children.setdefault(parent if parent in parents else None, []).append(name)

    def build(name: str) -> TreeLine:
        differs = name in declared and declared[name] != parents[name]
        return TreeLine(name, notes.get(name, ""), differs,
                        tuple(build(c) for c in children.get(name, [])))

    return tuple(build(r) for r in children.get(None, []))


def lineage_trees_md(view: LineageTrees) -> str:
    """The weight and failure trees as Markdown lines (parent <- child, note), the check's
    warnings below; every name through md_text."""
    lines = ["### Lineage from the weights and from the failures", ""]
    if view.weights:
        lines.append("From the weights: " + _md_edges(view.weights) + "\n")
    else:
        lines.append("From the weights: not checked (the run had `--no-check-lineage`).\n")
    lines.append("From the failures (strongest κ, Chow-Liu): " + _md_edges(view.behaviour)
                 + f"; holds {md_text(view.agreement)} of the declared edges.\n")
    lines += [f"- warning: {md_text(w)}" for w in view.warnings]
    return "\n".join(lines)


def _md_edges(roots: tuple[TreeLine, ...], limit: int = MD_EDGES) -> str:
    """Up to ``limit`` edges (a long family's list would crowd out the report's tables)."""
    out: list[str] = []
    stack: list[tuple[TreeLine, str | None]] = [(r, None) for r in reversed(roots)]
    while stack:
        node, parent = stack.pop()
        if parent is not None:
            flag = " **(differs)**" if node.differs else ""
            note = f" ({md_text(node.note)})" if node.note else ""
            out.append(f"{md_text(parent)} → {md_text(node.name)}{note}{flag}")
        stack += [(c, node.name) for c in reversed(node.children)]
    more = f"; {len(out) - limit} more edges" if len(out) > limit else ""
    return "; ".join(out[:limit]) + more if out else "no edges"
