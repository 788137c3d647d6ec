"""Behaviour against lineage: are models that are close in the family tree also close in
what they fail? The behavioural distance is 1 - kappa (error consistency).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.cluster.hierarchy import cophenet, leaves_list, linkage
from scipy.sparse.csgraph import minimum_spanning_tree
from scipy.spatial.distance import squareform

from auditkit.analyze.agreement import pair_index
from auditkit.analyze.lineage import Parents, as_lineage
from auditkit.analyze.stats import _seeded, permutation_pvalue


@dataclass(frozen=True)
class MantelResult:
    """Pearson r between two distance matrices and its one-sided permutation p-value."""

    r: float
    p_value: float
    n_pairs: int
    n_permutations: int


def behaviour_distance(kappa_pairs: np.ndarray, n_models: int) -> np.ndarray:
    """(M, M) distance 1 - kappa from the (P,) pair values (a < b); NaN stays NaN, diagonal 0."""
    D = np.zeros((n_models, n_models))
    iu, ju = pair_index(n_models)
    D[iu, ju] = D[ju, iu] = 1.0 - np.asarray(kappa_pairs, dtype=float)
    return D


def _masked_corr(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Pearson r of each row of X (c, P) with y (P,), over the entries finite in both."""
    valid = np.isfinite(X) & np.isfinite(y)
    n = valid.sum(axis=1)
    x, yy = np.where(valid, X, 0.0), np.where(valid, y, 0.0)
    sx, sy = x.sum(axis=1), yy.sum(axis=1)
    sxx, syy, sxy = (x * x).sum(axis=1), (yy * yy).sum(axis=1), (x * yy).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = (n * sxy - sx * sy) / np.sqrt((n * sxx - sx**2) * (n * syy - sy**2))
    return np.where(n >= 3, r, np.nan)


def mantel_test(D_x: np.ndarray, D_y: np.ndarray, *, n_permutations: int = 1000,
                seed: int | np.random.Generator = 0, chunk: int = 64) -> MantelResult:
    """Mantel test (Mantel 1967): r = Pearson(D_x, D_y) over the pairs a < b where both are
    finite; the null permutes the models of D_x (rows and columns together);
    p = (1 + #{r* >= r}) / (1 + B), one-sided (positive association).
    """
    rng = _seeded(seed)
    m = len(D_x)
    iu, ju = pair_index(m)
    y = np.asarray(D_y, dtype=float)[iu, ju]
    r = float(_masked_corr(np.asarray(D_x, float)[iu, ju][None, :], y)[0])
    n_pairs = int((np.isfinite(D_x[iu, ju]) & np.isfinite(y)).sum())
    if np.isnan(r) or n_permutations <= 0:
        return MantelResult(r, float("nan"), n_pairs, n_permutations)
    null = []
    for start in range(0, n_permutations, chunk):
        perm = np.argsort(rng.random((min(chunk, n_permutations - start), m)), axis=1)
        null.append(_null_corr(np.asarray(D_x, float), y, perm))
    return MantelResult(r, permutation_pvalue(r, np.concatenate(null)), n_pairs, n_permutations)


def _null_corr(D_x: np.ndarray, y: np.ndarray, perms: np.ndarray) -> np.ndarray:
    """_masked_corr of the permuted pairs D_x[p[iu], p[ju]] with y, for each row p of perms.

    When D_x is finite the valid pairs are those of y for every permutation, and the sums
    are dot products of the permuted (M, M) matrix with upper-triangular weights: no (c, P)
    index arrays (at 1,000 models, 8 times faster than gathering the pairs).
    """
    m = len(D_x)
    iu, ju = pair_index(m)
    if not np.isfinite(D_x[iu, ju]).all():
        return _masked_corr(D_x[perms[:, iu], perms[:, ju]], y)
    valid = np.isfinite(y)
    V, Y = np.zeros((m, m)), np.zeros((m, m))                 # upper-triangular weights
    V[iu, ju], Y[iu, ju] = valid, np.where(valid, y, 0.0)
    n, sy, syy = valid.sum(), Y.sum(), (Y * Y).sum()
    # every pair valid and D_x symmetric: sum x and sum x^2 do not depend on the permutation
    fixed = bool(valid.all()) and bool((D_x == D_x.T).all())
    sx, sxx = D_x[iu, ju].sum(), (D_x[iu, ju] ** 2).sum()
    out = np.empty(len(perms))
    for k, p in enumerate(perms):
        X = D_x[p[:, None], p[None, :]]                       # (M, M) permuted distances
        sxy = np.vdot(X, Y)
        if not fixed:
            sx, sxx = np.vdot(X, V), np.vdot(X * X, V)
        with np.errstate(divide="ignore", invalid="ignore"):
            out[k] = (n * sxy - sx * sy) / np.sqrt((n * sxx - sx**2) * (n * syy - sy**2))
    return np.where(n >= 3, out, np.nan)


@dataclass(frozen=True)
class Clustering:
    """A behavioural dendrogram and how well behaviour recovers the lineage tree."""

    linkage: pd.DataFrame        # step, left, right, distance, size (scipy's Z; leaves 0..M-1)
    leaf_order: tuple[str, ...]  # models in dendrogram order
    cophenetic_r: float          # Pearson(cophenetic distance, lineage path length)
    mst_edges: tuple[tuple[str, str], ...]  # minimum spanning tree of 1 - kappa
    edge_recall: float           # share of lineage edges that are MST edges (undirected)


def behaviour_clustering(D: np.ndarray, models: Sequence[str],
                         parents: Parents, lineage_dist: np.ndarray,
                         ) -> Clustering:
    """Average-linkage (UPGMA) clustering of the models on D = 1 - kappa, compared to lineage.

    Undefined kappa (a model that never or always fails) counts as distance 1 (chance level).
    Tree recovery: the minimum spanning tree of D (single linkage's tree) against the lineage
    edges, as for Chow-Liu trees: with strong inheritance a parent and child agree more than
    siblings or grandparents do, so the MST is the lineage tree.
    """
    m = len(models)
    D = np.where(np.isfinite(D), D, 1.0)
    np.fill_diagonal(D, 0.0)
    cols = ["step", "left", "right", "distance", "size"]
    if m < 2:
        return Clustering(pd.DataFrame(columns=cols), tuple(models), float("nan"), (), float("nan"))
    Z = linkage(squareform(np.maximum(D, 0.0), checks=False), method="average")
    iu, ju = pair_index(m)
    coph = cophenet(Z)                              # condensed, same pair order as (iu, ju)
    r = _masked_corr(coph[None, :], np.asarray(lineage_dist, float)[iu, ju])[0]
    # + 1 on every edge: the same MST (all spanning trees have m - 1 edges), no zero weights,
    # which csgraph would read as missing edges
    mst = minimum_spanning_tree(np.where(np.eye(m, dtype=bool), 0.0, D + 1.0)).tocoo()
    found = {frozenset((models[a], models[b])) for a, b in zip(mst.row, mst.col)}
    lineage = [frozenset(e) for e in as_lineage(parents).edges(within=models)]
    recall = (sum(e in found for e in lineage) / len(lineage)) if lineage else float("nan")
    table = pd.DataFrame({"step": np.arange(m - 1), "left": Z[:, 0].astype(int),
                          "right": Z[:, 1].astype(int), "distance": Z[:, 2],
                          "size": Z[:, 3].astype(int)})
    order = tuple(models[j] for j in leaves_list(Z))
    mst_edges = tuple(sorted((a, b) for a, b in (sorted(e) for e in found)))
    return Clustering(table, order, float(r), mst_edges, float(recall))
