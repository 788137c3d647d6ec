"""Benchmark: the analysis of a large simulated family (not part of the test suite).

    .venv/bin/python benchmarks/bench_analysis.py [--models 200] [--items 20000]
        [--probes 4] [--bootstrap 1000] [--permutations 1000] [--seed 0]
        [--stages | --stages-only] [--results] [--workers 1]

Simulates the pooled failure matrix directly (a random recursive family tree, root rate 0.3,
inheritance 0.8, introduction 0.05; the items split over --probes probes of the three kinds
in two categories) and times ``analyze_pooled``: every probe, every category and the pool,
all tables. --stages first times each stage on the pooled matrix alone. --results builds the
long results table (one row per model and item, as results.parquet holds) and times
``analyze`` from it instead, the table -> matrix step included. --workers: processes that
analyse the scopes (forked). Reports wall and CPU seconds of this process (the workers' CPU
time is not included: run it under ``/usr/bin/time -v``, which also gives the peak memory).
"""
from __future__ import annotations

import argparse
import time
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import pandas as pd

from auditkit.analyze import agreement, histogram, lineage, structure
from auditkit.analyze import homogenization as hom
from auditkit.analyze.bootstrap import PairCounts, bootstrap, pair_counts, single_threaded_blas
from auditkit.analyze.direction import direction_table
from auditkit.analyze.matrix import FailureMatrix
from auditkit.analyze.simulate import simulate_family
from auditkit.analyze.summary import analyze, analyze_pooled

KINDS = ("pair", "choice", "generation")


@contextmanager
def timed(label: str) -> Iterator[None]:
    t0, c0 = time.perf_counter(), time.process_time()
    yield
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    print(f"  {label:<52s} {wall:8.2f} s wall {cpu:8.2f} s CPU", flush=True)


def random_tree(n: int, seed: int) -> dict[str, str | None]:
    """A random recursive tree: model j's parent is uniform among models 0..j-1."""
    rng = np.random.default_rng(seed)
    parents: dict[str, str | None] = {"m0000": None}
    for j in range(1, n):
        parents[f"m{j:04d}"] = f"m{int(rng.integers(0, j)):04d}"
    return parents


def simulated_matrix(parents: dict[str, str | None], n_items: int, n_probes: int,
                     seed: int) -> FailureMatrix:
    """A pooled FailureMatrix as failure_matrix() builds it, drawn without a results table."""
    rng = np.random.default_rng(seed)
    sim = simulate_family(parents, n_items=n_items, root_rate=0.3, inherit=0.8,
                          introduce=0.05, seed=rng)
    M, N = sim.F.shape
    probe_of = np.arange(N) * n_probes // N                               # (N,) contiguous
    kind = np.array(KINDS, object)[probe_of % 3]
    k = np.where(kind == "choice", rng.integers(3, 5, N), np.where(kind == "pair", 2, 0))
    chosen = np.where(kind == "choice", 0, -1) * np.ones((M, 1), np.int64)
    wrong = 1 + (rng.random((M, N)) * np.maximum(k - 1, 1)).astype(np.int64)
    chosen = np.where(sim.F & (kind == "choice"), wrong, chosen)
    score = np.where(kind == "pair", np.abs(rng.standard_normal((M, N))), np.nan)
    score = np.where(sim.F, score, -score)
    names = np.array([f"probe{j}.{KINDS[j % 3]}" for j in range(n_probes)], object)[probe_of]
    cats = np.array(["bias", "safety"], object)[probe_of % 2]
    return FailureMatrix(sim.models, tuple(f"{p}/i{j}" for j, p in enumerate(names)), sim.F,
                         kind, chosen, k.astype(np.int64), score, item_probe=names,
                         item_category=cats)


def results_table(fm: FailureMatrix) -> pd.DataFrame:
    """The long results table (docs/run-format.md columns the analysis reads) of ``fm``."""
    M, N = fm.F.shape
    cat = pd.Categorical.from_codes
    item = pd.Categorical([name.split("/", 1)[1] for name in fm.items])
    probes = pd.Categorical(fm.item_probe)
    return pd.DataFrame({
        "model": cat(np.repeat(np.arange(M), N), categories=list(fm.models)),
        "probe": cat(np.tile(probes.codes, M), categories=probes.categories),
        "kind": pd.Categorical(np.tile(fm.item_kind, M)),
        "category": pd.Categorical(np.tile(fm.item_category, M)),
        "item": cat(np.tile(item.codes, M), categories=item.categories),
        "failed": fm.F.ravel(), "score": fm.score.ravel(), "chosen": fm.chosen.ravel(),
        "n_options": np.tile(fm.n_options, M)})


def pooled_stages(fm: FailureMatrix, parents: dict, args: argparse.Namespace) -> None:
    """Each stage of analyze_matrix on the pooled matrix, timed."""
    M = fm.n_models
    rng = np.random.default_rng(args.seed)
    with timed("observed pair counts (exact, float32 BLAS)"):
        counts = pair_counts(fm.F)
    roots, D, extra = lineage.blast_setup(fm, parents)
    stats = {"eff": hom.participation_ratio,
             **lineage.blast_statistics([fm.index(r) for r in roots], D, 0)}
    observed = PairCounts(counts.n_items, counts.fail, extra.sum(axis=1), both=counts.both)
    with timed(f"bootstrap, {args.bootstrap} resamples (kappa, eff, blast)"):
        boot = bootstrap(fm.F, stats, pair_intervals={"kappa": agreement.kappa_counts},
                         pair_sums={"phi": hom.phi_moments}, n_bootstrap=args.bootstrap,
                         seed=rng, extra=extra, observed=observed)
    with timed(f"pairwise table ({M * (M - 1) // 2:,} pairs, same-wrong, intervals)"):
        agreement.agreement_table(fm, counts, boot["kappa"])
    with timed("homogenization H (family and descendants)"):
        hom.homogenization(fm, counts=counts)
        hom.homogenization(fm, models=[m for m in fm.models if parents[m]], counts=counts)
    with timed(f"outcome histogram + {args.permutations} permutations"):
        histogram.outcome_histogram(fm, n_permutations=args.permutations, seed=rng)
    dist = lineage.path_lengths(fm.models, parents)
    Dbeh = structure.behaviour_distance(boot["kappa"].observed, M)
    with timed(f"Mantel test, {args.permutations} permutations"):
        structure.mantel_test(Dbeh, dist, n_permutations=args.permutations, seed=rng)
    with timed("clustering + MST tree recovery"):
        structure.behaviour_clustering(Dbeh, fm.models, parents, dist)
    with timed("lineage edges + direction + blast items"):
        lineage.edge_table(fm, parents)
        direction_table(fm, parents)
        lineage.blast_items(fm, roots, D)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--models", type=int, default=200)
    parser.add_argument("--items", type=int, default=20_000)
    parser.add_argument("--probes", type=int, default=4)
    parser.add_argument("--bootstrap", type=int, default=1000)
    parser.add_argument("--permutations", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--stages", action="store_true", help="time each stage on the pool")
    parser.add_argument("--results", action="store_true", help="start from the results table")
    parser.add_argument("--workers", type=int, default=1, help="processes for the scopes")
    parser.add_argument("--stages-only", action="store_true", help="skip the whole analysis")
    args = parser.parse_args()
    parents = random_tree(args.models, args.seed)
    print(f"{args.models} models x {args.items} items, {args.probes} probes, "
          f"B = {args.bootstrap}, {args.permutations} permutations")
    with timed("simulate the pooled failure matrix"):
        fm = simulated_matrix(parents, args.items, args.probes, args.seed)
    if args.stages or args.stages_only:
        print("pooled matrix, stage by stage:")
        with single_threaded_blas():
            pooled_stages(fm, parents, args)
    if args.stages_only:
        return
    opts = {"seed": args.seed, "n_bootstrap": args.bootstrap,
            "n_permutations": args.permutations, "workers": args.workers}
    print(f"whole analysis ({args.probes} probes + 2 categories + pooled):")
    if args.results:
        with timed("results table (one row per model and item)"):
            results = results_table(fm)
        del fm
        with timed("analyze(results): table -> matrices -> all tables"):
            analyze(results, parents, **opts)
    else:
        with timed("analyze_pooled(pooled matrix): all tables"):
            analyze_pooled(fm, parents, **opts)


if __name__ == "__main__":
    main()
