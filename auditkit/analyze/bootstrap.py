"""Co-failure counts and the item bootstrap that every bootstrapped interval is built from.

Nearly every statistic of the analysis is a function of a few counts: how many items each
model fails (``fail``), how many items each pair of models both fails (``both``) and weighted
counts of a few extra item rows (e.g. "every model fails", or how many descendants share a
root's failure). Resampling items with replacement (Efron 1979) only reweights the items, so a
replicate's counts are sum_i w_i x_i with w ~ Multinomial(N, 1/N): one set of resamples
serves every statistic of a scope.

Blocks. The items are split at random (seeded) into G blocks of nearly equal size (sizes
differ by at most 1) and a replicate draws G blocks with replacement: with G = N this is
exactly the item bootstrap; with G < N it is the bootstrap of G i.i.d. groups of
exchangeable items, whose variance estimate has G - 1 degrees of freedom, so a nominal 95%
interval covers about P(|t_{G-1}| < 1.96): 0.929 at G = 20, 0.948 at G = 200 (measured
figures: benchmarks/README.md). G = N whenever the replicate pair counts cost at most
PAIR_BUDGET multiply-adds (B G P, P = M (M - 1) / 2 pairs) and N <= MAX_BLOCKS; otherwise
G = max(MIN_BLOCKS, PAIR_BUDGET / (B P)), capped at N and MAX_BLOCKS. G never falls below
MIN_BLOCKS (or N) whatever the number of models: memory does not depend on G, because the
replicate pair counts are formed a few rows of models at a time and reduced at once
(a percentile interval per pair, or a sum over pairs per replicate).

Counts are exact: 0/1 products are summed in float32, exact for integers below 2^24 (every
count here is at most N), and turned into float64 before any division.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
from threadpoolctl import ThreadpoolController

from auditkit.analyze.stats import _seeded, percentile_interval

MIN_BLOCKS = 200               # fewest resampled blocks (t_{199}: coverage 0.948 of 0.95)
MAX_BLOCKS = 20_000            # most blocks: bounds the (B, G) weights (80 MB at B = 1000)
PAIR_BUDGET = 2 * 10**10       # multiply-adds for the replicate pair counts, B G P
CHUNK_FLOATS = 2**24           # replicate pair values formed at once (64 MB of float32)
PAIR_SLICE = 2**16             # pair values per elementwise step (256 KB: stays in cache)
EXACT_PAIR_VALUES = 2**26      # up to this many replicate pair values, statistics in float64
EXACT_FLOAT32 = 2**24          # integers below this add exactly in float32


@dataclass(frozen=True)
class Margins:
    """(Weighted) per-model and extra counts; ``...`` is the replicate axis (absent when observed)."""

    n_items: np.ndarray      # (...) total item weight
    fail: np.ndarray         # (..., M) items each model fails
    extra: np.ndarray        # (..., K) weighted count of each extra item row
    pair_sums: Mapping[str, np.ndarray] = field(default_factory=dict)  # name -> (...)
    resampled: bool = False  # replicate counts: a resample of the sample, so twice its noise

    @property
    def n(self) -> np.ndarray:
        """n_items with a trailing axis, to divide (..., M) counts by."""
        return np.asarray(self.n_items, dtype=float)[..., None]


@dataclass(frozen=True)
class PairCounts(Margins):
    """The observed counts, with the co-failure counts of every pair."""

    both: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))  # (M, M); diag = fail


@dataclass(frozen=True)
class Bootstrapped:
    """A statistic on the observed data, its replicates and its 95% percentile interval.

    ``samples`` is None for per-pair statistics, whose replicates are reduced to the interval
    as they are formed (they would need B x P floats).
    """

    observed: np.ndarray     # the statistic's shape
    samples: np.ndarray | None   # (B, *observed.shape)
    lo: np.ndarray
    hi: np.ndarray


Statistic = Callable[[Margins], np.ndarray]
# elementwise on broadcast arrays: (n_items, fail_a, fail_b, both_ab) -> value per pair
PairStatistic = Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray], np.ndarray]


def pair_index(n_models: int) -> tuple[np.ndarray, np.ndarray]:
    """The unordered pairs (a, b), a < b, in row-major order: two (P,) index arrays."""
    return np.triu_indices(n_models, k=1)


def pair_counts(F: np.ndarray, extra: np.ndarray | None = None) -> PairCounts:
    """The observed counts of a (M, N) 0/1 matrix and optional (K, N) extra item rows."""
    F = np.asarray(F)
    m, n = F.shape
    dtype = np.float32 if n < EXACT_FLOAT32 else np.float64
    Ff = F.astype(dtype)
    with single_threaded_blas():
        both = (Ff @ Ff.T).astype(np.float64)             # (M, M) exact integer counts
    del Ff
    E = _extra(extra, n)
    return PairCounts(np.asarray(float(n)), F.sum(axis=1, dtype=np.float64),
                      E.sum(axis=1, dtype=np.float64), both=both)


def _extra(extra: np.ndarray | None, n: int) -> np.ndarray:
    return np.zeros((0, n)) if extra is None else np.asarray(extra, dtype=np.float64)


@lru_cache(maxsize=1)
def _blas() -> ThreadpoolController:
    # found once: each threadpool_limits() call scans the loaded libraries (0.3 ms idle, over
    # 10 ms on a busy machine, paid twice per bootstrap)
    return ThreadpoolController()


def single_threaded_blas() -> Any:
    """A context in which BLAS uses one thread.

    On the shared 2-core machine threaded BLAS was no faster when idle and far slower when
    the cores were busy (F F^T for 200 x 20,000: 12 ms on one thread, 750 ms on two under load).
    """
    return _blas().limit(limits=1)


# ---------------------------------------------------------------- resampling design

def n_blocks(n_items: int, n_models: int, n_bootstrap: int, *, budget: int = PAIR_BUDGET,
             min_blocks: int = MIN_BLOCKS, max_blocks: int = MAX_BLOCKS) -> int:
    """G, the number of resampled blocks (see the module docstring)."""
    pairs = max(n_models * (n_models - 1) // 2, 1)
    affordable = budget // max(n_bootstrap * pairs, 1)
    return int(max(1, min(n_items, max_blocks, max(min_blocks, affordable))))


@dataclass(frozen=True)
class Resampling:
    """Which block each item is in, and each replicate's block multiplicities."""

    cols: np.ndarray         # (G, q) item of each block slot; N marks an empty slot
    weights: np.ndarray      # (B, G) float32, each row sums to G

    @property
    def n_blocks(self) -> int:
        g: int = self.cols.shape[0]
        return g

    def block_sums(self, X: np.ndarray) -> np.ndarray:
        """(G, K) float64 sums of the (K, N) item rows X (0/1 or counts) over each block."""
        X = np.asarray(X)
        Xz = np.concatenate([X, np.zeros((len(X), 1), X.dtype)], axis=1)   # N: empty slot
        sums: np.ndarray = Xz[:, self.cols].sum(axis=2, dtype=np.float64).T
        return sums

    def layout(self, F: np.ndarray) -> np.ndarray:
        """(G, M, q) float32 copy of the (M, N) 0/1 matrix F, block by block."""
        Fz = np.concatenate([np.asarray(F, bool), np.zeros((len(F), 1), bool)], axis=1)
        return np.ascontiguousarray(Fz[:, self.cols].transpose(1, 0, 2), dtype=np.float32)


def resampling(n_items: int, n_models: int, n_bootstrap: int,
               seed: int | np.random.Generator = 0, **design: int) -> Resampling:
    """A seeded random split of the items into G blocks and B replicates' block draws."""
    rng = _seeded(seed)
    g = n_blocks(n_items, n_models, n_bootstrap, **design)
    q = -(-n_items // g)                                     # ceil: slots per block
    slots = np.full(g * q, n_items)
    slots[:n_items] = rng.permutation(n_items) if g < n_items else np.arange(n_items)
    cols = slots.reshape(q, g).T                             # item j in block j % g
    return Resampling(np.ascontiguousarray(cols), item_weights(rng, g, n_bootstrap))


def item_weights(rng: np.random.Generator, n_items: int, size: int) -> np.ndarray:
    """(size, n_items) float32 multiplicities: each row counts n_items draws with replacement."""
    idx = rng.integers(0, n_items, size=(size, n_items))            # (size, N) drawn items
    idx += (np.arange(size) * n_items)[:, None]
    counts = np.bincount(idx.ravel(), minlength=size * n_items)
    return counts.reshape(size, n_items).astype(np.float32)


# ---------------------------------------------------------------- replicate counts

def replicate_margins(F: np.ndarray, extra: np.ndarray | None, rs: Resampling) -> Margins:
    """Margins with a leading (B,) replicate axis, in float64."""
    W = rs.weights.astype(np.float64)                               # (B, G)
    sizes = (rs.cols < F.shape[1]).sum(axis=1).astype(np.float64)   # (G,)
    return Margins(W @ sizes, W @ rs.block_sums(F), W @ rs.block_sums(_extra(extra, F.shape[1])),
                   resampled=True)


def pair_replicates(layout: np.ndarray, weights: np.ndarray, *, chunk: int = CHUNK_FLOATS,
                    ) -> Iterator[tuple[int, int, int, np.ndarray]]:
    """Yield (start, stop, first, both): the replicate co-failure counts (stop - start,
    M - first, B) of models start..stop-1 with models first..M-1 (first <= start), a few rows
    at a time, pair-major so that each pair's B replicates are contiguous (float32, exact).

    Per-block products C_g = F_g[rows] F_g[cols]^T are formed for a group of rows, then
    each replicate's counts are C^T W^T (one matrix product over the G blocks).
    """
    g, m, _ = layout.shape
    B = len(weights)
    WT = np.ascontiguousarray(weights.T)                                  # (G, B)
    start = 0
    while start < m:
        cols = m - start
        group = int(np.clip(2 * chunk // max(g * cols, 1), 1, m - start))
        C = _block_products(layout, start, start + group)                # (G, r, c)
        step = int(np.clip(chunk // max(B * cols, 1), 1, group))
        for s in range(0, group, step):
            part = np.ascontiguousarray(C[:, s:s + step]).reshape(g, -1)  # (G, r' c)
            both = (part.T @ WT).reshape(-1, cols, B)
            yield start + s, start + s + len(both), start, both
        start += group


def _block_products(layout: np.ndarray, start: int, stop: int) -> np.ndarray:
    """(G, stop - start, M - start) F_g[start:stop] F_g[start:]^T for every block g."""
    g, _, q = layout.shape
    if q == 1:                                                       # outer products
        outer: np.ndarray = layout[:, start:stop, :] * layout[:, start:, :].transpose(0, 2, 1)
        return outer
    out = np.empty((g, stop - start, layout.shape[1] - start), np.float32)
    for j in range(g):
        np.matmul(layout[j, start:stop], layout[j, start:].T, out=out[j])
    return out


# ---------------------------------------------------------------- the bootstrap

def bootstrap(F: np.ndarray, statistics: Mapping[str, Statistic] | None = None, *,
              pair_intervals: Mapping[str, PairStatistic] | None = None,
              pair_sums: Mapping[str, PairStatistic] | None = None,
              n_bootstrap: int = 1000, seed: int | np.random.Generator = 0,
              extra: np.ndarray | None = None, observed: PairCounts | None = None,
              chunk: int = CHUNK_FLOATS, **design: int) -> dict[str, Bootstrapped]:
    """Every statistic on the observed counts and on ``n_bootstrap`` resamples of the items.

    ``statistics`` map Margins (any leading axes) to arrays; ``pair_intervals`` and
    ``pair_sums`` are elementwise functions of (n_items, fail_a, fail_b, both_ab): the first
    get a percentile interval per pair a < b, the second are summed over the pairs a < b and
    passed to ``statistics`` as ``Margins.pair_sums[name]`` (a pair sum may stack k values
    per pair on a leading axis: its sums are then (k,) observed and (k, B) replicated). All share the same resamples,
    drawn from ``seed``. ``observed``: pair_counts(F, extra) if already computed; ``chunk``:
    replicate pair values formed at once; ``design``: see :func:`n_blocks`.
    """
    statistics, intervals, sums = statistics or {}, pair_intervals or {}, pair_sums or {}
    F = np.asarray(F, dtype=bool)
    observed = observed if observed is not None else pair_counts(F, extra)
    observed = _with_sums(observed, sums)
    out = {name: _pair_observed(observed, fn) for name, fn in intervals.items()}
    if n_bootstrap <= 0 or F.shape[1] == 0:
        out.update({name: _no_replicates(stat(observed)) for name, stat in statistics.items()})
        return out
    rs = resampling(F.shape[1], F.shape[0], n_bootstrap, seed, **design)
    margins = replicate_margins(F, extra, rs)
    if intervals or sums:
        with single_threaded_blas():
            lohi, totals = _pair_pass(rs.layout(F), rs.weights, margins, intervals, sums,
                                      chunk)
        out.update({k: Bootstrapped(out[k].observed, None, *lohi[k]) for k in intervals})
        margins = Margins(margins.n_items, margins.fail, margins.extra, totals, True)
    for name, stat in statistics.items():
        samples = np.asarray(stat(margins), dtype=float)
        out[name] = Bootstrapped(np.asarray(stat(observed), dtype=float), samples,
                                 *percentile_interval(samples))
    return out


def _with_sums(c: PairCounts, sums: Mapping[str, PairStatistic]) -> PairCounts:
    iu, ju = pair_index(len(c.fail))
    totals = {name: np.asarray(fn(c.n_items, c.fail[iu], c.fail[ju], c.both[iu, ju]).sum(-1))
              for name, fn in sums.items()}
    return PairCounts(c.n_items, c.fail, c.extra, {**c.pair_sums, **totals}, both=c.both)


def _pair_observed(c: PairCounts, fn: PairStatistic) -> Bootstrapped:
    iu, ju = pair_index(len(c.fail))
    return _no_replicates(fn(c.n_items, c.fail[iu], c.fail[ju], c.both[iu, ju]))


def _no_replicates(value: np.ndarray) -> Bootstrapped:
    value = np.asarray(value, dtype=float)
    nan = np.full(value.shape, np.nan)
    return Bootstrapped(value, None, nan, nan.copy())


def _pair_pass(layout: np.ndarray, weights: np.ndarray, margins: Margins,
               intervals: Mapping[str, PairStatistic], sums: Mapping[str, PairStatistic],
               chunk: int) -> tuple[dict[str, tuple[np.ndarray, np.ndarray]],
                                    dict[str, np.ndarray]]:
    """One pass over the replicate pair counts: intervals per pair and sums per replicate.

    Each pair's statistics are computed on slices of at most PAIR_SLICE pairs x B replicates,
    small enough to stay in the CPU cache through the statistic's elementwise steps.
    """
    m, B = layout.shape[1], len(weights)
    n_pairs = m * (m - 1) // 2
    lohi = {k: (np.full(n_pairs, np.nan), np.full(n_pairs, np.nan)) for k in intervals}
    totals: dict[str, np.ndarray] = {k: np.zeros(0) for k in sums}
    # float64 statistics where that costs little (the counts are exact either way; float32
    # rounds a statistic to about 1e-7, which only the largest families need for speed)
    dtype = np.float64 if B * n_pairs <= EXACT_PAIR_VALUES else np.float32
    n = margins.n_items.astype(dtype)                                     # (B,)
    fail = np.ascontiguousarray(margins.fail.T, dtype=dtype)              # (M, B)
    width = max(1, PAIR_SLICE // max(B, 1))
    for start, stop, first, both in pair_replicates(layout, weights, chunk=chunk):
        for a in range(start, stop):
            row = both[a - start]                                         # (M - first, B)
            for c0 in range(a + 1 - first, m - first, width):
                c1 = min(m - first, c0 + width)
                args = (n, fail[a], fail[first + c0:first + c1], row[c0:c1].astype(dtype, copy=False))
                for name, fn in intervals.items():
                    pos = _pair_position(a, first + c0, m)
                    _store(lohi[name], _row_percentiles(fn(*args)), pos)
                for name, fn in sums.items():
                    total = fn(*args).sum(axis=-2, dtype=np.float64)      # (..., B)
                    totals[name] = totals[name] + total if totals[name].size else total
    for name, fn in sums.items():                  # no pairs at all: sums of nothing, shaped
        if not totals[name].size:
            none = np.zeros((0, B), np.float32)
            totals[name] = fn(n, n, none, none).sum(axis=-2, dtype=np.float64)
    return lohi, totals


def _pair_position(a: int, b: int, m: int) -> int:
    """Index of the pair (a, b), a < b, in the row-major order of :func:`pair_index`."""
    return a * m - a * (a + 1) // 2 + (b - a - 1)


def _row_percentiles(values: np.ndarray, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Percentile interval of each row of a (k, B) array, as :func:`percentile_interval` of
    its transpose; a sort per row (SIMD-accelerated in numpy, faster than partitioning)."""
    s = np.sort(values, axis=1)
    if np.isnan(s[:, -1]).any():                                          # NaNs sort last
        return percentile_interval(values.T, level=level)
    out = []
    for q in ((1 - level) / 2, (1 + level) / 2):
        pos = q * (s.shape[1] - 1)
        j = int(np.floor(pos))
        k = min(j + 1, s.shape[1] - 1)
        lo_v, hi_v = s[:, j].astype(float), s[:, k].astype(float)
        out.append(lo_v + (pos - j) * (hi_v - lo_v))
    return out[0], out[1]


def _store(target: tuple[np.ndarray, np.ndarray], values: tuple[np.ndarray, np.ndarray],
           pos: int) -> None:
    for t, v in zip(target, values):
        t[pos:pos + len(v)] = v
