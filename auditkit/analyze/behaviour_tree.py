"""Behavioural lineage: the tree the failures suggest, to set beside the declared one.

The maximum spanning tree of the pooled error consistency kappa (Geirhos et al. 2020) between
models, i.e. the minimum spanning tree of 1 - kappa: the Chow-Liu construction (Chow & Liu
1968), which recovers a tree when each model's failures depend most on its parent's. Failures
carry no direction, so the tree is hung from the declared root(s) for display; an undefined
kappa (a model that never or always fails) counts as 0 (chance).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.sparse.csgraph import minimum_spanning_tree


@dataclass(frozen=True)
class BehaviourTree:
    parents: dict[str, str | None]   # hung from the first declared root of each tree
    kappa: dict[str, float]          # child -> kappa with its behavioural parent
    agreement: float                 # share of declared edges that are tree edges (undirected)


def behaviour_tree(models: Sequence[str], K: np.ndarray,
                   declared: dict[str, str | None]) -> BehaviourTree:
    """The Chow-Liu tree of ``K`` (M, M) kappa, rows in ``models`` order, rooted at the
    declared roots (the first model when none of them is in ``models``)."""
    m = len(models)
    if m == 0:
        return BehaviourTree({}, {}, float("nan"))
    kappa = np.where(np.isfinite(K), K, 0.0)
    # distance 2 - kappa in [1, 3]: positive (csgraph drops zeros), same tree as 1 - kappa
    tree = minimum_spanning_tree(np.where(np.eye(m, dtype=bool), 0.0, 2.0 - kappa)).tocoo()
    adjacent: dict[int, list[int]] = {i: [] for i in range(m)}
    for a, b in zip(tree.row, tree.col):
        adjacent[int(a)].append(int(b))
        adjacent[int(b)].append(int(a))
    roots = [i for i, name in enumerate(models) if declared.get(name) is None] or [0]
    parents: dict[str, str | None] = {}
    for root in roots:
        _hang(root, adjacent, models, parents)
    return BehaviourTree(parents, _edge_kappa(parents, models, kappa),
                         _agreement(parents, declared))


def _hang(root: int, adjacent: dict[int, list[int]], models: Sequence[str],
          parents: dict[str, str | None]) -> None:
    if models[root] in parents:
        return
    parents[models[root]] = None
    stack = [root]
    while stack:
        node = stack.pop()
        for nxt in adjacent[node]:
            if models[nxt] not in parents:
                parents[models[nxt]] = models[node]
                stack.append(nxt)


def _edge_kappa(parents: dict[str, str | None], models: Sequence[str],
                kappa: np.ndarray) -> dict[str, float]:
    pos = {name: i for i, name in enumerate(models)}
    return {c: float(kappa[pos[c], pos[p]]) for c, p in parents.items() if p is not None}


def _agreement(parents: dict[str, str | None], declared: dict[str, str | None]) -> float:
    edges = {frozenset((c, p)) for c, p in parents.items() if p is not None}
    wanted = [frozenset((c, p)) for c, p in declared.items()
              if p is not None and c in parents and p in parents]
    return sum(e in edges for e in wanted) / len(wanted) if wanted else float("nan")
