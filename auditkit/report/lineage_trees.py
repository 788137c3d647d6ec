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
from auditkit.report.charts import kappa_matrix
from auditkit.store import RunManifest


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
