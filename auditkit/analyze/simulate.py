"""Simulated families with known inheritance, for testing and calibrating the analysis.

A root fails each item with probability p; every child fails each item its parent fails with
probability a (inheritance) and each item its parent passes with probability b (introduced
failures), independently across items. So P(child fails | parent fails) = a and
P(child fails | parent passes) = b exactly, which the edge estimates should recover.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from auditkit.analyze.lineage import Parents, as_lineage
from auditkit.analyze.stats import _seeded


@dataclass(frozen=True, eq=False)
class SimulatedFamily:
    """A simulated failure matrix and the truth it was drawn from."""

    models: tuple[str, ...]              # topological order
    parents: dict[str, str | None]
    root_rate: np.ndarray                # (M,) p for roots, NaN elsewhere
    inherit: np.ndarray                  # (M,) a for children, NaN for roots
    introduce: np.ndarray                # (M,) b for children, NaN for roots
    F: np.ndarray                        # (M, N) bool


def tree(branching: int | Sequence[int], depth: int, *, prefix: str = "m") -> dict[str, str | None]:
    """A rooted tree as {name: parent}, breadth first: ``branching`` children per node (or
    branching[d] at depth d), ``depth`` levels below the root. Names: m0 (root), m1, m2, ..."""
    widths = [branching] * depth if isinstance(branching, int) else list(branching)[:depth]
    parents: dict[str, str | None] = {f"{prefix}0": None}
    level = [f"{prefix}0"]
    for width in widths:
        nxt = []
        for node in level:
            for _ in range(width):
                name = f"{prefix}{len(parents)}"
                parents[name] = node
                nxt.append(name)
        level = nxt
    return parents


def _per_model(value: float | Mapping[str, float] | Sequence[float], models: Sequence[str],
               ) -> np.ndarray:
    if isinstance(value, Mapping):
        return np.array([value.get(m, np.nan) for m in models], dtype=float)
    arr = np.asarray(value, dtype=float)
    return np.broadcast_to(arr, (len(models),)).astype(float)


def simulate_family(parents: Parents, *, n_items: int, root_rate: float | Mapping[str, float] = 0.3,
                    inherit: float | Mapping[str, float] | Sequence[float] = 0.8,
                    introduce: float | Mapping[str, float] | Sequence[float] = 0.05,
                    seed: int | np.random.Generator = 0) -> SimulatedFamily:
    """Draw a (M, n_items) failure matrix down the tree ``parents`` (topological order:
    ValueError when a parent comes after its child).

    Per-model values may be given as a mapping by name or a sequence in ``parents``' order.
    """
    rng = _seeded(seed)
    lineage = as_lineage(parents)
    models = lineage.names
    pos = {m: j for j, m in enumerate(models)}
    p, a, b = (_per_model(v, models) for v in (root_rate, inherit, introduce))
    F = np.zeros((len(models), n_items), dtype=bool)         # (M, n_items)
    for j, m in enumerate(models):
        u = rng.random(n_items)
        parent = lineage.parent(m)
        if parent is None:
            F[j] = u < p[j]
        elif pos[parent] > j:
            raise ValueError(f"parent {parent!r} of {m!r} comes after it; expected parents first")
        else:
            F[j] = np.where(F[pos[parent]], u < a[j], u < b[j])
    is_root = np.array([lineage.parent(m) is None for m in models])
    return SimulatedFamily(tuple(models), dict(lineage.parents), np.where(is_root, p, np.nan),
                           np.where(is_root, np.nan, a), np.where(is_root, np.nan, b), F)


def simulate_independent(rates: Sequence[float], *, n_items: int,
                         seed: int | np.random.Generator = 0) -> np.ndarray:
    """(M, n_items) bool: model m fails each item independently with probability rates[m]."""
    rng = _seeded(seed)
    return rng.random((len(rates), n_items)) < np.asarray(rates, dtype=float)[:, None]
