"""Recovery and calibration of the analysis on simulated families (not part of the tests).

    .venv/bin/python benchmarks/calibrate_analysis.py [--reps 500] [--only NAME ...]

Prints, over seeded replications: coverage of the true inheritance a and introduction b by
the 95% Wilson intervals; coverage of the true H by its interval in four regimes (no item
failed by every model, a few such items, inheritance, rare failures); coverage of the
population kappa by the bootstrap intervals (item bootstrap, rare failures, 20 and 200
resampled blocks, a 2,000-model family); coverage of the effective number of models; the
size of the permutation tests under independence; how often the behavioural MST recovers the
lineage tree. Figures: benchmarks/README.md.
"""
from __future__ import annotations

import argparse
import time

import numpy as np
from scipy.stats import kstest

from auditkit.analyze.agreement import kappa_counts, pairwise_agreement
from auditkit.analyze.bootstrap import bootstrap
from auditkit.analyze.histogram import outcome_histogram
from auditkit.analyze.homogenization import effective_number, homogenization
from auditkit.analyze.lineage import edge_table, path_lengths
from auditkit.analyze.matrix import matrix_from_array
from auditkit.analyze.simulate import simulate_family, simulate_independent, tree
from auditkit.analyze.structure import behaviour_clustering, behaviour_distance, mantel_test


def edge_coverage(reps: int, p=0.3, a=0.7, b=0.1, n_items=300) -> None:
    parents = tree(2, 2)                                   # 7 models, 6 edges
    cov_a, cov_b, cov_k, est_a, est_b = [], [], [], [], []
    p_child = p * a + (1 - p) * b                          # children of the root
    for seed in range(reps):
        sim = simulate_family(parents, n_items=n_items, root_rate=p, inherit=a, introduce=b,
                              seed=seed)
        fm = matrix_from_array(sim.F, models=sim.models)
        t = edge_table(fm, parents)
        cov_a += list((t.inherited_rate_lo <= a) & (a <= t.inherited_rate_hi))
        cov_b += list((t.introduced_rate_lo <= b) & (b <= t.introduced_rate_hi))
        est_a += list(t.inherited_rate)
        est_b += list(t.introduced_rate)
        if seed < min(reps, 200):                           # bootstrap is the slow part
            pairs = pairwise_agreement(fm.subset(["m0", "m1"]), n_bootstrap=500, seed=seed)
            both = p * a
            c_obs = both + (1 - p) * (1 - b)
            c_exp = p * p_child + (1 - p) * (1 - p_child)
            kappa = (c_obs - c_exp) / (1 - c_exp)
            cov_k.append(bool(pairs.kappa_lo[0] <= kappa <= pairs.kappa_hi[0]))
    print(f"edges: a={a} b={b} p={p} N={n_items}, {reps} replications x 6 edges")
    print(f"  inherited: mean estimate {np.mean(est_a):.4f}, "
          f"95% Wilson coverage {np.mean(cov_a):.3f}")
    print(f"  introduced: mean estimate {np.mean(est_b):.4f}, "
          f"95% Wilson coverage {np.mean(cov_b):.3f}")
    print(f"  kappa(root, child) bootstrap 95% coverage {np.mean(cov_k):.3f} "
          f"over {len(cov_k)} reps")


def h_coverage(reps: int) -> None:
    """Coverage of the true H; the share of replications with no all-fail item."""
    def family(p: float, a: float, b: float, children: int, n: int):
        p_c = p * a + (1 - p) * b
        truth = (p * a**children) / (p * p_c**children)
        return truth, lambda s: simulate_family(tree(children, 1), n_items=n, root_rate=p,
                                                inherit=a, introduce=b, seed=s).F
    regimes = {
        "no all-fail item: 7 independent x 400, p = 0.3":
            (1.0, lambda s: simulate_independent([0.3] * 7, n_items=400, seed=s)),
        "few all-fail items: 5 independent x 400, p = 0.4 (4.1 expected)":
            (1.0, lambda s: simulate_independent([0.4] * 5, n_items=400, seed=s)),
        "5 independent x 4000, p = 0.3-0.6 (126 expected)":
            (1.0, lambda s: simulate_independent([0.5, 0.4, 0.6, 0.5, 0.3], n_items=4000,
                                                 seed=s)),
        "inheritance: root + 4, p = 0.3, a = 0.8, b = 0.1, N = 500":
            family(0.3, 0.8, 0.1, 4, 500),
        "rare failures: root + 3, p = 0.05, a = 0.9, b = 0.005, N = 1000":
            family(0.05, 0.9, 0.005, 3, 1000),
        "strong inheritance: root + 4, p = 0.3, a = 0.9, b = 0.05, N = 4000":
            family(0.3, 0.9, 0.05, 4, 4000),
    }
    for name, (truth, draw) in regimes.items():
        hs = [homogenization(matrix_from_array(draw(seed))) for seed in range(reps)]
        cover = np.mean([h.H_lo <= truth <= h.H_hi for h in hs])
        zero = np.mean([h.n_all_fail == 0 for h in hs])
        print(f"H, {name}: true H {truth:.3g}, coverage {cover:.3f} over {reps} "
              f"(no all-fail item in {zero:.2f}); mean H {np.mean([h.H for h in hs]):.3g}")


def kappa_truth(p: float, a: float, b: float) -> float:
    p_child = p * a + (1 - p) * b
    c_obs = p * a + (1 - p) * (1 - b)
    c_exp = p * p_child + (1 - p) * (1 - p_child)
    return (c_obs - c_exp) / (1 - c_exp)


def kappa_coverage(reps: int) -> None:
    """Coverage of the population kappa of a root and its child by the percentile bootstrap."""
    regimes = [("item bootstrap, p = 0.3, a = 0.7, b = 0.1, N = 300", (0.3, 0.7, 0.1, 300), {}),
               ("rare failures, p = 0.02, a = 0.6, b = 0.01, N = 1000 (about 20 failures)",
                (0.02, 0.6, 0.01, 1000), {}),
               ("20 blocks (the old budget at 1,000 models), N = 2000",
                (0.3, 0.7, 0.1, 2000), {"budget": 0, "min_blocks": 20}),
               ("200 blocks (MIN_BLOCKS, any family size), N = 2000",
                (0.3, 0.7, 0.1, 2000), {"budget": 0})]
    for name, (p, a, b, n), design in regimes:
        truth, covered = kappa_truth(p, a, b), []
        for seed in range(reps):
            F = simulate_family({"r": None, "c": "r"}, n_items=n, root_rate=p, inherit=a,
                                introduce=b, seed=seed).F
            k = bootstrap(F, pair_intervals={"k": kappa_counts}, n_bootstrap=1000, seed=seed,
                          **design)["k"]
            covered.append(k.lo[0] <= truth <= k.hi[0])
        print(f"kappa, {name}: coverage {np.mean(covered):.3f} over {reps}")


def large_family_kappa(reps: int, n_models: int = 2000, n_items: int = 2000) -> None:
    """A root with n_models - 1 children: every pair's population kappa is known; the
    bootstrap resamples 200 blocks (what any family this large gets)."""
    p, a, b = 0.3, 0.7, 0.1
    p_c = p * a + (1 - p) * b
    both = p * a * a + (1 - p) * b * b                     # two children both fail
    c_obs, c_exp = 1 - 2 * p_c + 2 * both, p_c**2 + (1 - p_c) ** 2
    k_cc, k_rc = (c_obs - c_exp) / (1 - c_exp), kappa_truth(p, a, b)
    parents = {"r": None, **{f"c{j}": "r" for j in range(n_models - 1)}}
    for name, design in (("200 blocks", {}), ("20 blocks", {"min_blocks": 20, "budget": 0})):
        cover_rc, cover_cc = [], []
        for seed in range(reps):
            F = simulate_family(parents, n_items=n_items, root_rate=p, inherit=a, introduce=b,
                                seed=seed).F
            k = bootstrap(F, pair_intervals={"k": kappa_counts}, n_bootstrap=1000, seed=seed,
                          **design)["k"]
            rc = slice(0, n_models - 1)                    # pairs (root, child) come first
            cover_rc.append(np.mean((k.lo[rc] <= k_rc) & (k_rc <= k.hi[rc])))
            cover_cc.append(np.mean((k.lo[n_models - 1:] <= k_cc) & (k_cc <= k.hi[n_models - 1:])))
        print(f"kappa, {n_models} models x {n_items} items, {name}: coverage root-child "
              f"{np.mean(cover_rc):.3f}, child-child {np.mean(cover_cc):.3f} "
              f"({reps} families, {n_models * (n_models - 1) // 2:,} pairs each)")


def effective_n_coverage(reps: int) -> None:
    """Coverage of the population participation ratio: independent models (truth M, at the
    top of its range) and a root with 6 children (truth from the population phi's)."""
    p, a, b, kids = 0.3, 0.7, 0.1, 6
    p_c = p * a + (1 - p) * b
    phi_rc = (p * a - p * p_c) / np.sqrt(p * (1 - p) * p_c * (1 - p_c))
    phi_cc = (p * a * a + (1 - p) * b * b - p_c**2) / (p_c * (1 - p_c))
    m = kids + 1
    star = m**2 / (m + 2 * (kids * phi_rc**2 + kids * (kids - 1) / 2 * phi_cc**2))
    cases = [(f"5 independent models x {n}", 5.0,
              lambda s, n=n: simulate_independent([0.5, 0.4, 0.6, 0.5, 0.3], n_items=n, seed=s))
             for n in (1000, 4000)]
    cases += [(f"root + {kids} children (a = {a}, b = {b}) x {n}", star,
               lambda s, n=n: simulate_family(tree(kids, 1), n_items=n, root_rate=p, inherit=a,
                                              introduce=b, seed=s).F) for n in (500, 4000)]
    for name, truth, draw in cases:
        covered, est = [], []
        for seed in range(min(reps, 200)):
            e = effective_number(matrix_from_array(draw(seed)), n_bootstrap=1000, seed=seed)
            covered.append(e.lo <= truth <= e.hi)
            est.append(e.value)
        print(f"effective number, {name}: truth {truth:.4f}, mean estimate {np.mean(est):.4f}, "
              f"coverage {np.mean(covered):.3f} over {len(covered)}")


def permutation_size(reps: int) -> None:
    hist_p, mantel_p = [], []
    parents = tree(2, 2)
    models = list(parents)
    L = path_lengths(models, parents)
    for seed in range(reps):
        rng = np.random.default_rng(seed)
        F = simulate_independent(rng.uniform(0.1, 0.6, 7), n_items=200, seed=rng)
        fm = matrix_from_array(F, models=models)
        hist_p.append(outcome_histogram(fm, n_permutations=199, seed=rng).p_value)
        kappa = pairwise_agreement(fm, n_bootstrap=0)["kappa"].to_numpy()
        mantel_p.append(mantel_test(behaviour_distance(kappa, 7), L, n_permutations=199,
                                    seed=rng).p_value)
    for name, ps in (("independence (histogram)", hist_p), ("Mantel", mantel_p)):
        ps = np.array(ps)
        print(f"{name} test under independence, {reps} reps: "
              f"share p<0.05 {np.mean(ps < 0.05):.3f}, p<0.10 {np.mean(ps < 0.10):.3f}, "
              f"mean p {ps.mean():.3f}, "
              f"KS vs uniform p {kstest(ps, 'uniform').pvalue:.3f}")


def tree_recovery(reps: int) -> None:
    for a, b in ((0.9, 0.02), (0.7, 0.1), (0.5, 0.2), (0.4, 0.25), (0.3, 0.3)):
        recall, exact = [], []
        parents = tree(3, 2)                                  # 13 models
        models = list(parents)
        L = path_lengths(models, parents)
        for seed in range(reps):
            sim = simulate_family(parents, n_items=1000, root_rate=0.3, inherit=a,
                                  introduce=b, seed=seed)
            fm = matrix_from_array(sim.F, models=models)
            kappa = pairwise_agreement(fm, n_bootstrap=0)["kappa"].to_numpy()
            c = behaviour_clustering(behaviour_distance(kappa, 13), models, parents, L)
            recall.append(c.edge_recall)
            exact.append(c.edge_recall == 1.0)
        print(f"tree recovery, 13 models x 1000 items, a={a} b={b}: mean edge recall "
              f"{np.mean(recall):.3f}, exact tree in {np.mean(exact):.3f} of {reps}")


STEPS = {"edges": edge_coverage, "h": h_coverage, "kappa": kappa_coverage,
         "large": large_family_kappa, "effective": effective_n_coverage,
         "permutation": permutation_size, "tree": tree_recovery}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reps", type=int, default=500)
    parser.add_argument("--only", nargs="*", choices=list(STEPS), default=list(STEPS))
    args = parser.parse_args()
    for name in args.only:
        t0 = time.perf_counter()
        reps = {"tree": min(args.reps, 100), "large": max(1, args.reps // 250)}.get(name,
                                                                                  args.reps)
        STEPS[name](reps)
        print(f"  [{time.perf_counter() - t0:.1f} s]", flush=True)


if __name__ == "__main__":
    main()
