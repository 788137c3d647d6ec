"""What the lineage inference measures on weights, streamed one row chunk at a time.

For the M full models of one architecture and each of their T shared matrices W_t (out, in):
- the relative distance d_t(i, j) = ||W_t^i - W_t^j||_F / ||W_t^0||_F, from the Gram matrix of
  the differences to member 0 (accumulated over row chunks in float64, so tiny fine-tuning
  deltas do not cancel away);
- the excess kurtosis of each W_t^i (MoTHer, Horwitz et al. ICLR 2025, take the direction of an
  edge from it), from its first four raw moments.
For a LoRA adapter X and each full edge P -> F, the cosine per matrix between the adapter's
effective delta and F's delta W_F - W_P (see :mod:`auditkit.family.infer_tree`).
Memory: M x chunk float64 values at a time (an adapter: three matrices), never a whole
model.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from auditkit.family.infer_weights import FullWeights, LoraWeights, lora_delta, read_rows

CHUNK = 1 << 19          # values per member per read (4 MiB of float64)


@dataclass(frozen=True)
class FullStats:
    """Per-matrix distances and kurtosis of the full models of one architecture."""

    names: tuple[str, ...]
    matrices: tuple[str, ...]
    distance: np.ndarray     # (T, M, M) relative distance per matrix
    kurtosis: np.ndarray     # (T, M) excess kurtosis per matrix and member


def full_stats(members: Sequence[FullWeights], chunk: int = CHUNK) -> FullStats:
    """Distances and kurtosis of ``members`` (one architecture: the same matrices)."""
    matrices = tuple(sorted(members[0].tensors))
    m = len(members)
    dist = np.zeros((len(matrices), m, m))
    kurt = np.zeros((len(matrices), m))
    for t, name in enumerate(matrices):
        dist[t], kurt[t] = _matrix_stats([w.tensors[name] for w in members], chunk)
    return FullStats(tuple(w.name for w in members), matrices, dist, kurt)


def _matrix_stats(refs: Sequence[object], chunk: int) -> tuple[np.ndarray, np.ndarray]:
    """(M, M) relative distances and (M,) excess kurtosis of one matrix across members."""
    shape = refs[0].shape  # type: ignore[attr-defined]
    rows = max(1, chunk // shape[1])
    gram = np.zeros((len(refs), len(refs)))
    moments = np.zeros((4, len(refs)))      # sums of x, x^2, x^3, x^4 per member
    for start in range(0, shape[0], rows):
        stop = min(shape[0], start + rows)
        x = np.stack([read_rows(r, start, stop).ravel() for r in refs])  # type: ignore[arg-type]
        diff = x - x[0]                     # (M, chunk): differences to member 0
        gram += diff @ diff.T
        x2 = x * x
        moments += [x.sum(1), x2.sum(1), np.einsum("ij,ij->i", x2, x),
                    np.einsum("ij,ij->i", x2, x2)]
    sq = np.diag(gram)
    dist = np.sqrt(np.maximum(sq[:, None] + sq[None, :] - 2 * gram, 0.0))
    norm0 = np.sqrt(moments[1, 0]) or 1.0
    return dist / norm0, _excess_kurtosis(moments / (shape[0] * shape[1]))


def _excess_kurtosis(raw: np.ndarray) -> np.ndarray:
    """m4 / m2^2 - 3 from raw moments E[x], E[x^2], E[x^3], E[x^4] (4, M)."""
    mu, e2, e3, e4 = raw
    m2 = e2 - mu**2
    m4 = e4 - 4 * mu * e3 + 6 * mu**2 * e2 - 3 * mu**4
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(m2 > 0, m4 / m2**2 - 3.0, 0.0)


@dataclass(frozen=True)
class AdapterStats:
    """An adapter against the full edges P -> F of its architecture."""

    name: str
    matrices: tuple[str, ...]
    cosine: np.ndarray          # (E, T') cos(delta_X, W_F - W_P) per edge and adapted matrix
    relative_norm: np.ndarray   # (M, T') ||delta_X|| / ||W|| of each full member's matrix


def adapter_stats(lora: LoraWeights, full: Sequence[FullWeights],
                  edges: Sequence[tuple[int, int]]) -> AdapterStats:
    """Cosines of the adapter's delta with each full edge's delta (indices into ``full``)."""
    matrices = tuple(sorted(lora.modules))
    cos = np.zeros((len(edges), len(matrices)))
    rel = np.zeros((len(full), len(matrices)))
    for t, name in enumerate(matrices):
        delta = lora_delta(lora, name).ravel()              # (out * in,)
        size = float(np.linalg.norm(delta))
        # one member's matrix at a time: an adapted embedding is 100s of MB per member
        for m, member in enumerate(full):
            rel[m, t] = size / max(float(np.linalg.norm(read_rows(member.tensors[name]))),
                                   1e-300)
        for e, (p, c) in enumerate(edges):
            step = (read_rows(full[c].tensors[name]) - read_rows(full[p].tensors[name])).ravel()
            denom = float(np.linalg.norm(step)) * size
            cos[e, t] = float(step @ delta / denom) if denom > 0 else 0.0
    return AdapterStats(lora.name, matrices, cos, rel)
