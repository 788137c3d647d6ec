"""The lineage tree as the report draws it: nested nodes with rates and edge counts."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from auditkit.lineage import Lineage
from auditkit.present import count, pct, pct_ci, plain, pval


@dataclass(frozen=True)
class EdgeView:
    """The edge from the parent to this node: pooled paired counts and McNemar's test."""

    n_inherited: int        # items both fail (n11)
    n_introduced: int       # items only the child fails (n01)
    n_fixed: int            # items only the parent fails (n10)
    inherited_rate: str     # P(child fails | parent fails), formatted
    p: str                  # McNemar p, formatted
    significant: bool       # Holm-corrected McNemar p < the report's alpha


@dataclass(frozen=True)
class TreeNode:
    name: str
    kind: str
    rate: float | None              # pooled failure rate
    rate_text: str                  # '28% [19, 41]'
    edge: EdgeView | None           # None for a root
    children: tuple[TreeNode, ...]


def lineage_tree(lineage: Lineage, kinds: Mapping[str, str], rates: pd.DataFrame,
                 edges: pd.DataFrame, *, alpha: float) -> tuple[TreeNode, ...]:
    """The forest (roots and siblings in manifest order) with pooled rates and pooled edge
    counts; an edge is marked significant when its Holm-corrected McNemar p is below alpha."""
    rate = {r.model: r for r in rates[rates["level"] == "pooled"].itertuples()}
    edge = {r.child: r for r in edges[edges["level"] == "pooled"].itertuples()}

    def build(name: str) -> TreeNode:
        r = rate.get(name)
        children = tuple(build(c) for c in lineage.children(name))
        return TreeNode(name, kinds.get(name, ""), plain(r.rate) if r else None,
                        pct_ci(r.rate, r.rate_lo, r.rate_hi) if r else "not scored",
                        _edge_view(edge.get(name), alpha), children)

    return tuple(build(root) for root in lineage.roots)


def _edge_view(row: Any, alpha: float) -> EdgeView | None:   # row: an edges itertuple
    if row is None:
        return None
    sig = bool(row.mcnemar_p_holm < alpha) if pd.notna(row.mcnemar_p_holm) else False
    return EdgeView(int(row.n11), int(row.n01), int(row.n10), pct(row.inherited_rate),
                    pval(row.mcnemar_p), sig)


def tree_rows(nodes: tuple[TreeNode, ...], depth: int = 0) -> list[tuple[int, str]]:
    """The tree as (depth, text) rows in preorder (for Markdown's nested lists)."""
    rows = []
    for node in nodes:
        rows.append((depth, f"{node.name} {node.rate_text}{_edge_text(node.edge)}"))
        rows += tree_rows(node.children, depth + 1)
    return rows


def _edge_text(edge: EdgeView | None) -> str:
    if edge is None:
        return ""
    return (f" (inherited {count(edge.n_inherited)}, introduced {count(edge.n_introduced)}, "
            f"fixed {count(edge.n_fixed)}; McNemar p {edge.p}"
            f"{', significant' if edge.significant else ''})")
