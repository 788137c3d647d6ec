"""Directed trees from weight statistics: pure functions (arrays in, parents out).

Full models (MoTHer: Horwitz, Shul & Hoshen, "Unsupervised Model Tree Heritage Recovery",
ICLR 2025):
- distance D = mean over matrices t of d_t (relative Frobenius distance); the undirected tree is
  the minimum spanning tree of D, cut at edges longer than ``UNRELATED`` (separate trees);
- direction: MoTHer observe that fine-tuning lowers the kurtosis of weights (their code's
  ``build_tree`` penalises an edge whose child has the higher kurtosis for fine-tuned trees, and
  reverses that for continued pre-training). Each tree is rooted at the member that minimises
  sum over edges p -> c of v(p, c), the share of changed matrices whose kurtosis rises from p to
  c; a root given by the caller wins;
- confidence: bootstrap support (Felsenstein 1985): the share of B trees, rebuilt from matrices
  resampled with replacement, that hold the same edge, direction included.

LoRA adapters carry only their delta, so distances cannot say which full model they were
trained on. Under a quadratic model of the loss, a fine-tune started from F = P + delta_F takes
steps -eta (g + H delta_F) whose curvature term, with H positive semi-definite, is anti-aligned
with delta_F, while a sibling of F (started from P) has no such term. So an adapter descends from
P into F when its delta's cosine with delta_F is negative on a significant majority of matrices
(one-sided Wilcoxon signed-rank test at ``ALPHA``), and stays at P otherwise: a heuristic, checked on the demo
family and the tests, not a theorem.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.sparse.csgraph import minimum_spanning_tree
from scipy.stats import wilcoxon

UNRELATED = 0.5      # mean relative distance above which two models are not one's fine-tune
ALPHA = 0.05         # test level for an adapter to descend into a full child
TINY = 1e-12

Parents = list[int | None]


def spanning_edges(D: np.ndarray, cut: float = UNRELATED) -> list[tuple[int, int]]:
    """Undirected edges (i < j) of the minimum spanning forest of ``D`` (M, M), without the
    edges longer than ``cut``. A zero distance (identical weights) still makes an edge."""
    graph = np.where(D > 0, D, TINY)
    np.fill_diagonal(graph, 0.0)
    tree = minimum_spanning_tree(graph).tocoo()
    return sorted((int(min(i, j)), int(max(i, j))) for i, j, w in
                  zip(tree.row, tree.col, tree.data) if w <= cut)


def orient(edges: Sequence[tuple[int, int]], n: int, roots: Sequence[int]) -> Parents:
    """Parents when the forest of ``edges`` hangs from ``roots`` (one per component)."""
    adjacent: dict[int, list[int]] = {i: [] for i in range(n)}
    for i, j in edges:
        adjacent[i].append(j)
        adjacent[j].append(i)
    parents: Parents = [None] * n
    seen = set(roots)
    stack = list(roots)
    while stack:
        node = stack.pop()
        for nxt in adjacent[node]:
            if nxt not in seen:
                seen.add(nxt)
                parents[nxt] = node
                stack.append(nxt)
    return parents


def components(edges: Sequence[tuple[int, int]], n: int) -> list[list[int]]:
    """The members of each tree of the forest, in index order."""
    label = list(range(n))

    def find(i: int) -> int:
        while label[i] != i:
            label[i] = label[label[i]]
            i = label[i]
        return i

    for i, j in edges:
        label[find(i)] = find(j)
    groups: dict[int, list[int]] = {}
    for i in range(n):
        groups.setdefault(find(i), []).append(i)
    return sorted(groups.values())


def kurtosis_votes(kurt: np.ndarray) -> np.ndarray:
    """(M, M) v[p, c]: share of the matrices that differ in kurtosis between p and c whose
    kurtosis is higher in c (0.5 when none differs); ``kurt`` is (T, M)."""
    diff = kurt[:, None, :] - kurt[:, :, None]            # (T, M, M): kurt[c] - kurt[p]
    changed = np.abs(diff) > TINY * (1 + np.abs(kurt[:, :, None]))
    n_changed = changed.sum(0)
    rises = (changed & (diff > 0)).sum(0)
    return np.where(n_changed > 0, rises / np.maximum(n_changed, 1), 0.5)


def choose_root(members: Sequence[int], edges: Sequence[tuple[int, int]], n: int,
                votes: np.ndarray) -> int:
    """The member of one tree whose orientation has the least kurtosis-rise cost (the first
    such in index order on a tie)."""
    inside = set(members)
    tree_edges = [e for e in edges if e[0] in inside]
    best, best_cost = members[0], float("inf")
    for root in members:
        parents = orient(tree_edges, n, [root])
        cost = sum(votes[p, c] for c, p in enumerate(parents) if p is not None)
        if cost < best_cost - 1e-12:
            best, best_cost = root, cost
    return best


def full_tree(dist: np.ndarray, kurt: np.ndarray, fixed_root: int | None = None) -> Parents:
    """Parents of the M full models from per-matrix distances (T, M, M) and kurtosis (T, M)."""
    n = dist.shape[1]
    edges = spanning_edges(dist.mean(0))
    votes = kurtosis_votes(kurt)
    roots = []
    for members in components(edges, n):
        if fixed_root is not None and fixed_root in members:
            roots.append(fixed_root)
        else:
            roots.append(choose_root(members, edges, n, votes))
    return orient(edges, n, roots)


def bootstrap_full(dist: np.ndarray, kurt: np.ndarray, parents: Parents, *, n_boot: int = 200,
                   seed: int = 0, fixed_root: int | None = None) -> list[float]:
    """Bootstrap support of each member's parent (1.0 for an agreed root's None)."""
    rng = np.random.default_rng(seed)
    t = dist.shape[0]
    hits = np.zeros(len(parents))
    for _ in range(n_boot):
        idx = rng.integers(0, t, t)
        again = full_tree(dist[idx], kurt[idx], fixed_root)
        hits += [a == p for a, p in zip(again, parents)]
    return list(hits / n_boot)


def place_adapter(cosine: np.ndarray, edges: Sequence[tuple[int, int]], roots: Sequence[int],
                  alpha: float = ALPHA) -> int:
    """The full model an adapter hangs from: start at a root, descend along the full edge
    p -> c whose cosines (row of ``cosine`` (E, T)) are significantly below 0 (the smallest
    p-value under ``alpha``), stop when none is."""
    node = roots[0]
    while True:
        best, best_p = None, alpha
        for e, (p, c) in enumerate(edges):
            p_value = descent_pvalue(cosine[e]) if p == node else 1.0
            if p_value < best_p:
                best, best_p = c, p_value
        if best is None:
            return node
        node = best


def descent_pvalue(cos: np.ndarray) -> float:
    """One-sided Wilcoxon signed-rank p-value (Wilcoxon 1945) that the per-matrix cosines
    (T,) sit below 0; 1.0 when fewer than 6 are non-zero (too few to test)."""
    cos = cos[cos != 0]
    if len(cos) < 6:
        return 1.0
    return float(wilcoxon(cos, alternative="less").pvalue)


def bootstrap_adapter(cosine: np.ndarray, edges: Sequence[tuple[int, int]],
                      roots: Sequence[int], parent: int, *, n_boot: int = 200,
                      seed: int = 0) -> float:
    """Share of resamples of the adapter's matrices that place it under ``parent``."""
    rng = np.random.default_rng(seed)
    t = cosine.shape[1]
    hits = sum(place_adapter(cosine[:, rng.integers(0, t, t)], edges, roots) == parent
               for _ in range(n_boot))
    return hits / n_boot
