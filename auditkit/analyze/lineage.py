"""Failures along the lineage: inheritance on every parent -> child edge, the blast radius of
each root failure and the share of descendant failures attributable to the base.

``parents`` is the run's :class:`~auditkit.lineage.Lineage` or a mapping of every model of
the family to its parent (None for a root), as the run manifest's ``models[].parent`` is;
models absent from a matrix are skipped, but a missing intermediate model does not cut a root
off from its deeper descendants. Every walk of the tree is the Lineage's.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import shortest_path

from auditkit.analyze.bootstrap import Bootstrapped, Margins, Statistic, bootstrap
from auditkit.analyze.matrix import FailureMatrix
from auditkit.analyze.stats import katz_relative_risk, mcnemar_exact, wilson_interval
from auditkit.lineage import Lineage

Parents = Lineage | Mapping[str, str | None]


def as_lineage(parents: Parents) -> Lineage:
    """The Lineage of a {model: parent} mapping (a Lineage is returned as it is)."""
    return parents if isinstance(parents, Lineage) else Lineage(parents)


def edges(models: Sequence[str], parents: Parents) -> list[tuple[str, str]]:
    """(parent, child) for every child whose parent is also among ``models``."""
    return as_lineage(parents).edges(within=models)


def descendants(name: str, parents: Parents) -> list[str]:
    """Every descendant of ``name`` at any depth, in ``parents``' order."""
    return as_lineage(parents).descendants(name)


def path_lengths(models: Sequence[str], parents: Parents) -> np.ndarray:
    """(M, M) number of lineage edges between models; NaN between different trees.

    Computed on the whole family, so absent intermediate models still count as steps.
    """
    lineage = as_lineage(parents)
    pos = {m: j for j, m in enumerate(lineage.names)}
    linked = lineage.edges()
    src, dst = [pos[c] for _, c in linked], [pos[p] for p, _ in linked]
    graph = csr_matrix((np.ones(len(src)), (src, dst)), shape=(len(pos),) * 2)
    dist = shortest_path(graph, directed=False, unweighted=True)
    rows = [pos[m] for m in models]
    out = dist[np.ix_(rows, rows)]
    return np.where(np.isinf(out), np.nan, out)


def edge_table(fm: FailureMatrix, parents: Parents) -> pd.DataFrame:
    """One row per lineage edge parent -> child from the paired 2x2 table of failures.

    n11 both fail, n10 only the parent, n01 only the child, n00 neither (counts).
    inherited_rate = n11 / (n11 + n10) = P(child fails | parent fails); fixed_rate =
    1 - inherited_rate; introduced_rate = n01 / (n01 + n00) = P(child fails | parent passes),
    each with a Wilson interval; rr = inherited_rate / introduced_rate with the Katz interval
    (zero cells: :func:`~auditkit.analyze.stats.katz_relative_risk`);
    mcnemar_p: the exact McNemar test of n10 vs n01 (a change in failure rate). DESIGN.md,
    Analysis.
    """
    pairs = edges(fm.models, parents)
    pi = np.array([fm.index(p) for p, _ in pairs], dtype=np.int64)
    ci = np.array([fm.index(c) for _, c in pairs], dtype=np.int64)
    n_fail = fm.F.sum(axis=1, dtype=np.int64)                           # (M,)
    n11 = np.array([np.count_nonzero(fm.F[p] & fm.F[c]) for p, c in zip(pi, ci)], np.int64)
    n10, n01 = n_fail[pi] - n11, n_fail[ci] - n11
    n00 = fm.n_items - n11 - n10 - n01
    t: dict[str, object] = {"parent": np.array([p for p, _ in pairs], dtype=object),
                            "child": np.array([c for _, c in pairs], dtype=object),
                            "n_items": fm.n_items, "n11": n11, "n10": n10, "n01": n01, "n00": n00}
    with np.errstate(divide="ignore", invalid="ignore"):
        t["parent_rate"], t["child_rate"] = (n11 + n10) / fm.n_items, (n11 + n01) / fm.n_items
        inherited = n11 / (n11 + n10)
        inherited_lo, inherited_hi = wilson_interval(n11, n11 + n10)
        t["inherited_rate"] = inherited
        t["inherited_rate_lo"], t["inherited_rate_hi"] = inherited_lo, inherited_hi
        t["fixed_rate"] = 1 - inherited
        t["fixed_rate_lo"] = 1 - inherited_hi
        t["fixed_rate_hi"] = 1 - inherited_lo
        t["introduced_rate"] = n01 / (n01 + n00)
        t["introduced_rate_lo"], t["introduced_rate_hi"] = wilson_interval(n01, n01 + n00)
    t["rr"], t["rr_lo"], t["rr_hi"] = katz_relative_risk(n11, n11 + n10, n01, n01 + n00)
    t["mcnemar_p"] = mcnemar_exact(n10, n01)
    table: pd.DataFrame = pd.DataFrame(t)
    return table


# ---------------------------------------------------------------- blast radius

def blast_setup(fm: FailureMatrix, parents: Parents) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Roots that have descendants in ``fm``, their (R, M) descendant masks, and the (2R, N)
    extra item rows of :func:`blast_statistics`: R indicators "the root and every one of its
    descendants fail the item", then R counts "how many descendants share the root's failure"
    (F_r,i times the number of r's descendants failing item i)."""
    lineage = as_lineage(parents)
    roots, masks = [], []
    for m in fm.models:
        if m in lineage and lineage.parent(m) is None:
            desc = set(lineage.descendants(m))
            mask = np.array([x in desc for x in fm.models])
            if mask.any():
                roots.append(m)
                masks.append(mask)
    D = np.array(masks, dtype=bool).reshape(len(roots), fm.n_models)
    R = [fm.F[fm.index(r)] for r in roots]
    everyone = [f & fm.F[d].all(axis=0) for f, d in zip(R, D)]
    shared = [f * fm.F[d].sum(axis=0, dtype=np.int64) for f, d in zip(R, D)]
    return roots, D, np.array(everyone + shared, dtype=np.float64).reshape(2 * len(roots),
                                                                           fm.n_items)


def blast_statistics(root_rows: Sequence[int], desc: np.ndarray, extra_start: int,
                     ) -> dict[str, Statistic]:
    """Per root r with descendants D (|D| = d), from the counts (each of shape (..., R)):

    blast       = sum_{x in D} n_rx / (d n_r)   mean share of descendants failing a root failure
    everyone    = n(r and all of D fail) / n_r  share of root failures every descendant keeps
    base_share  = sum_{x in D} n_rx / sum_{x in D} n_x
                  share of descendant failures on items the root fails (base-attributable).
    Independence baselines: mean_{x in D} p_x for blast, p_r for base_share.
    sum_{x in D} n_rx and n(r and all of D fail) are the extra rows of :func:`blast_setup`
    (from ``extra_start``), so the statistics need no pair counts.
    """
    rows = np.asarray(root_rows, dtype=np.int64)
    D = np.asarray(desc, dtype=float)                                   # (R, M)
    every_cols = extra_start + np.arange(len(rows))
    shared_cols = every_cols + len(rows)

    def blast(c: Margins) -> np.ndarray:                               # (..., R)
        with np.errstate(divide="ignore", invalid="ignore"):
            value: np.ndarray = c.extra[..., shared_cols] / (D.sum(axis=1) * c.fail[..., rows])
            return value

    def everyone(c: Margins) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            value: np.ndarray = c.extra[..., every_cols] / c.fail[..., rows]
            return value

    def base_share(c: Margins) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            value: np.ndarray = c.extra[..., shared_cols] / (c.fail @ D.T)
            return value
    return {"blast": blast, "everyone": everyone, "base_share": base_share}


def blast_items(fm: FailureMatrix, roots: Sequence[str], desc: np.ndarray) -> pd.DataFrame:
    """One row per (root, item the root fails): how many of its descendants still fail it."""
    frames = []
    for root, mask in zip(roots, desc):
        fails = np.flatnonzero(fm.F[fm.index(root)])
        n = fm.F[mask][:, fails].sum(axis=0)
        frames.append(pd.DataFrame({"root": root, "item": np.asarray(fm.items, object)[fails],
                                    "n_descendants": int(mask.sum()), "n_failing": n,
                                    "share": n / mask.sum()}))
    cols = ["root", "item", "n_descendants", "n_failing", "share"]
    table: pd.DataFrame = (pd.concat(frames, ignore_index=True) if frames
                           else pd.DataFrame(columns=cols))
    return table


def blast_table(fm: FailureMatrix, roots: Sequence[str], desc: np.ndarray,
                boot: Mapping[str, Bootstrapped]) -> pd.DataFrame:
    """One row per root from the blast statistics' observed values and bootstrap replicates."""
    rows = [fm.index(r) for r in roots]
    p = fm.F.mean(axis=1) if fm.n_items else np.full(fm.n_models, np.nan)
    t: dict[str, object] = {"root": list(roots), "n_descendants": desc.sum(axis=1).astype(int),
                            "n_root_failures": fm.F[rows].sum(axis=1).astype(int)}
    for name in ("blast", "everyone", "base_share"):
        b = boot[name]
        t[name] = b.observed
        t[f"{name}_lo"], t[f"{name}_hi"] = b.lo, b.hi
        if name == "blast":
            t["blast_baseline"] = (desc * p).sum(axis=1) / desc.sum(axis=1)
    t["base_share_baseline"] = p[rows]
    table: pd.DataFrame = pd.DataFrame(t)
    return table


def blast_radius(fm: FailureMatrix, parents: Parents, *, n_bootstrap: int = 1000,
                 seed: int | np.random.Generator = 0) -> pd.DataFrame:
    """Blast radius and base-attributable share of every root, with bootstrap intervals."""
    roots, desc, extra = blast_setup(fm, parents)
    stats = blast_statistics([fm.index(r) for r in roots], desc, 0)
    if not roots:
        empty = Bootstrapped(np.empty(0), None, np.empty(0), np.empty(0))
        return blast_table(fm, roots, desc, {k: empty for k in stats})
    boot = bootstrap(fm.F, stats, n_bootstrap=n_bootstrap, seed=seed, extra=extra)
    return blast_table(fm, roots, desc, boot)
