"""The whole analysis of a run: every statistic per probe, per category and pooled.

Pure: results table and lineage in, an :class:`Analysis` of tables and headline numbers out.
One bootstrap pass per scope serves every bootstrapped statistic (shared resamples).
"""
from __future__ import annotations

import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from auditkit.analyze import agreement, histogram, lineage, structure
from auditkit.analyze import homogenization as hom
from auditkit.analyze.bootstrap import (
    Bootstrapped,
    PairCounts,
    bootstrap,
    pair_counts,
    single_threaded_blas,
)
from auditkit.analyze.direction import direction_table
from auditkit.analyze.matrix import FailureMatrix, failure_matrix
from auditkit.analyze.native import (
    EDGE_COLUMNS,
    NATIVE_COLUMNS,
    holm_with_probe_edges,
    native_tables,
)
from auditkit.analyze.parallel import map_scopes
from auditkit.analyze.rates import failure_rates
from auditkit.analyze.stats import holm

MULTIPLE_COMPARISONS = {
    "method": "holm",
    "families": "each test (independence, mantel, mcnemar per lineage edge) within a level "
                "(probe, category, pooled), across its scopes; at the probe level, each lineage "
                "edge's McNemar tests together with its dataset-native metric tests "
                "(native_edges)"}
ALPHA = 0.05                # significance level of the headline's counts of tests
SCOPE_TABLES = ("scopes", "rates", "pairs", "edges", "blast", "blast_items", "histogram",
                "linkage")
NATIVE_TABLES = ("native", "native_edges")      # per benchmark, not per scope
TABLES = SCOPE_TABLES + NATIVE_TABLES


@dataclass(frozen=True)
class Analysis:
    """Tables (each with ``level`` and ``scope`` columns) and the pooled headline numbers."""

    scopes: pd.DataFrame        # one row per scope: sizes, H, effective number, tests
    rates: pd.DataFrame         # per model
    pairs: pd.DataFrame         # per pair of models a < b
    edges: pd.DataFrame         # per lineage edge, with bias direction for pair items
    blast: pd.DataFrame         # per root
    blast_items: pd.DataFrame   # per (root, item the root fails), probe level only
    histogram: pd.DataFrame     # per k = 0..M
    linkage: pd.DataFrame       # behavioural dendrogram, leaves = the scope's models in order
    headline: dict[str, Any]
    parameters: dict[str, Any] = field(default_factory=dict)
    # dataset-native metrics per (benchmark, subset, metric, model) and per lineage edge
    native: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=NATIVE_COLUMNS))
    native_edges: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=[*EDGE_COLUMNS, "p_holm"]))

    def tables(self) -> dict[str, pd.DataFrame]:
        return {name: getattr(self, name) for name in TABLES}


def _scope_seed(seed: int, level: str, scope: str) -> np.random.Generator:
    """A generator per scope that does not depend on which other scopes exist."""
    return np.random.default_rng([seed, zlib.crc32(f"{level}/{scope}".encode())])


def analyze_matrix(fm: FailureMatrix, parents: Mapping[str, str | None], *, seed: int = 0,
                   n_bootstrap: int = 1000, n_permutations: int = 1000,
                   rng: np.random.Generator | None = None) -> dict[str, Any]:
    """Every statistic of one failure matrix: a dict of tables plus ``scope`` (one row)."""
    rng = rng or np.random.default_rng(seed)
    M = fm.n_models
    desc_rows = [j for j, m in enumerate(fm.models) if parents.get(m) is not None]
    roots, desc, blast_extra = lineage.blast_setup(fm, parents)
    counts = pair_counts(fm.F)
    boot = _bootstrap_all(fm, counts, roots, desc, blast_extra, n_bootstrap, rng)
    pairs = agreement.agreement_table(fm, counts, boot["kappa"])
    dist = lineage.path_lengths(fm.models, parents)
    pairs["lineage_distance"] = dist[agreement.pair_index(M)]
    h_fam = hom.homogenization(fm, counts=counts)
    h_desc = hom.homogenization(fm, models=[fm.models[j] for j in desc_rows], counts=counts)
    eff = hom.effective_number_result(fm, boot["eff"])
    hist = histogram.outcome_histogram(fm, n_permutations=n_permutations, seed=rng)
    D = structure.behaviour_distance(boot["kappa"].observed, M)
    mantel = (structure.mantel_test(D, dist, n_permutations=n_permutations, seed=rng) if M >= 3
              else structure.MantelResult(float("nan"), float("nan"), 0, 0))
    clus = structure.behaviour_clustering(D, fm.models, parents, dist)
    edges = _edges(fm, parents)
    rates = failure_rates(fm)
    rates.insert(1, "parent", [parents.get(m) for m in fm.models])
    scope = _scope_row(fm, rates, pairs, edges, h_fam, h_desc, eff, hist, mantel, clus)
    return {"scope": scope, "rates": rates, "pairs": pairs, "edges": edges,
            "blast": lineage.blast_table(fm, roots, desc, boot),
            "blast_items": lineage.blast_items(fm, roots, desc), "histogram": hist.table,
            "linkage": clus.linkage}


def _bootstrap_all(fm: FailureMatrix, counts: PairCounts, roots: list[str], desc: np.ndarray,
                   blast_extra: np.ndarray, n_bootstrap: int, rng: np.random.Generator,
                   ) -> dict[str, Bootstrapped]:
    """One bootstrap pass for kappa, the effective number and the blast statistics (the H
    intervals are computed, not resampled: homogenization.log_h_interval)."""
    stats = {"eff": hom.participation_ratio,
             **lineage.blast_statistics([fm.index(r) for r in roots], desc, 0)}
    observed = PairCounts(counts.n_items, counts.fail, blast_extra.sum(axis=1), both=counts.both)
    return bootstrap(fm.F, stats, pair_intervals={"kappa": agreement.kappa_counts},
                     pair_sums={"phi": hom.phi_moments}, n_bootstrap=n_bootstrap, seed=rng,
                     extra=blast_extra, observed=observed)


def _edges(fm: FailureMatrix, parents: Mapping[str, str | None]) -> pd.DataFrame:
    """The lineage edge table with the bias-direction columns (pair items) joined on."""
    direction = direction_table(fm, parents).rename(columns={
        "r": "direction_r", "r_lo": "direction_r_lo", "r_hi": "direction_r_hi",
        "rho": "direction_rho", "n_pairs": "direction_n"})
    table: pd.DataFrame = lineage.edge_table(fm, parents).merge(direction, on=["parent", "child"],
                                                                how="left")
    return table


def _scope_row(fm: FailureMatrix, rates: pd.DataFrame, pairs: pd.DataFrame,
               edges: pd.DataFrame, h_fam: hom.Homogenization, h_desc: hom.Homogenization,
               eff: hom.EffectiveNumber, hist: histogram.OutcomeHistogram,
               mantel: structure.MantelResult, clus: structure.Clustering) -> dict[str, Any]:
    """The scope's one-line summary (the ``scopes`` table)."""
    kinds = sorted(set(fm.item_kind))
    row: dict[str, Any] = {"kind": "+".join(kinds), "n_models": fm.n_models, "n_items": fm.n_items,
           "n_dropped_items": fm.n_dropped, "mean_rate": float(rates["rate"].mean()),
           "n_chance_items": int(rates["n_chance_items"].iloc[0]) if len(rates) else 0,
           "chance_rate": float(rates["chance_rate"].iloc[0]) if len(rates) else np.nan,
           "mean_chance_items_rate": _nanmean(rates["chance_items_rate"]),
           "mean_kappa": float(np.nanmean(pairs["kappa"])) if pairs["kappa"].notna().any()
           else float("nan"),
           "mean_inherited_rate": _nanmean(edges["inherited_rate"]),
           "mean_introduced_rate": _nanmean(edges["introduced_rate"])}
    for name, h in (("H_family", h_fam), ("H_descendants", h_desc)):
        row.update({name: h.H, f"{name}_lo": h.H_lo, f"{name}_hi": h.H_hi,
                    f"{name}_log10": h.log10_H, f"{name}_reason": h.reason})
    row.update({"all_fail_rate": h_fam.all_fail_rate, "effective_n": eff.value,
                "effective_n_lo": eff.lo, "effective_n_hi": eff.hi,
                "effective_n_models_used": eff.n_models_used,
                "variance_ratio": hist.variance_ratio, "independence_p": hist.p_value,
                "mantel_r": mantel.r, "mantel_p": mantel.p_value,
                "cophenetic_r": clus.cophenetic_r, "mst_edge_recall": clus.edge_recall,
                "leaf_order": list(clus.leaf_order)})
    return row


def _nanmean(x: pd.Series) -> float:
    return float(x.mean()) if x.notna().any() else float("nan")


def scope_specs(results: pd.DataFrame) -> list[tuple[str, str, dict[str, str]]]:
    """(level, scope, failure_matrix filter) for every probe, every category and the pool."""
    probes = list(pd.unique(results["probe"]))
    cats = list(pd.unique(results["category"]))
    return ([("probe", p, {"probe": p}) for p in probes]
            + [("category", c, {"category": c}) for c in cats] + [("pooled", "all", {})])


def analyze(results: pd.DataFrame, parents: Mapping[str, str | None], *, seed: int = 0,
            n_bootstrap: int = 1000, n_permutations: int = 1000, workers: int = 1,
            items: pd.DataFrame | None = None) -> Analysis:
    """Analyse a run's results (docs/run-format.md) given the lineage {model: parent}.

    Models are taken in ``parents``' order (topological); those without results are left out.
    ``items``: the attributes of the run's benchmark items (auditkit.analyze.native), for the
    dataset-native metrics; None or empty: none.
    """
    native = (native_tables(results, items, parents, seed=seed, n_bootstrap=n_bootstrap,
                            n_permutations=n_permutations)
              if items is not None and len(items) else None)
    # categorical keys: the per-scope filters and factorizations then work on integer codes
    results = results.astype({c: "category" for c in ("model", "probe", "kind", "category",
                                                     "item")})
    present = set(results["model"].cat.categories[np.unique(results["model"].cat.codes)])
    models = [m for m in parents if m in present]
    return analyze_pooled(failure_matrix(results, models=models), parents, seed=seed,
                          n_bootstrap=n_bootstrap, n_permutations=n_permutations,
                          specs=scope_specs(results), workers=workers, native=native)


def analyze_pooled(pooled: FailureMatrix, parents: Mapping[str, str | None], *, seed: int = 0,
                   n_bootstrap: int = 1000, n_permutations: int = 1000,
                   specs: list[tuple[str, str, dict[str, str]]] | None = None,
                   workers: int = 1,
                   native: tuple[pd.DataFrame, pd.DataFrame] | None = None) -> Analysis:
    """The analysis of a pooled failure matrix (:func:`failure_matrix` of all results): every
    probe and category scope is cut out of it (:meth:`FailureMatrix.scope`), and the scopes
    run on up to ``workers`` processes (the same tables whatever their number). ``native``:
    the (native, native_edges) tables of :func:`auditkit.analyze.native.native_tables`."""
    if specs is None:
        specs = scope_specs(pd.DataFrame({"probe": pooled.item_probe,
                                          "category": pooled.item_category}))

    def one(spec: tuple[str, str, dict[str, str]]) -> dict[str, Any]:
        level, scope, filt = spec
        fm = pooled.scope(**filt)
        with single_threaded_blas():
            out = analyze_matrix(fm, parents, n_bootstrap=n_bootstrap,
                                 n_permutations=n_permutations,
                                 rng=_scope_seed(seed, level, scope))
        out["scopes"] = pd.DataFrame([out.pop("scope")])
        if level != "probe":
            out["blast_items"] = out["blast_items"].iloc[0:0]
        return out
    weights = [int(pooled.scope_mask(**f).sum()) if f else pooled.n_items for _, _, f in specs]
    outs = map_scopes(one, specs, workers=workers, weights=weights)
    parts: dict[str, list[pd.DataFrame]] = {name: [] for name in SCOPE_TABLES}
    for (level, scope, _), out in zip(specs, outs):
        for name in SCOPE_TABLES:
            frame = out[name]
            frame.insert(0, "scope", scope)
            frame.insert(0, "level", level)
            parts[name].append(frame)
    tables = {name: pd.concat(frames, ignore_index=True) for name, frames in parts.items()}
    tables["native"], tables["native_edges"] = native or (
        pd.DataFrame(columns=NATIVE_COLUMNS), pd.DataFrame(columns=EDGE_COLUMNS))
    _correct(tables)
    params = {"seed": seed, "n_bootstrap": n_bootstrap, "n_permutations": n_permutations,
              "multiple_comparisons": MULTIPLE_COMPARISONS}
    return Analysis(**tables, headline=headline(tables), parameters=params)


def _correct(tables: dict[str, pd.DataFrame]) -> None:
    """Holm-adjusted p-values next to each test's raw p-value (see MULTIPLE_COMPARISONS)."""
    scopes, edges = tables["scopes"], tables["edges"]
    for col in ("independence_p", "mantel_p"):
        scopes[f"{col}_holm"] = scopes.groupby("level")[col].transform(
            lambda p: pd.Series(holm(p.to_numpy()), index=p.index))
    edges["mcnemar_p_holm"] = (edges.groupby(["level", "parent", "child"])["mcnemar_p"]
                               .transform(lambda p: pd.Series(holm(p.to_numpy()), index=p.index))
                               if len(edges) else pd.Series(dtype=float))
    native = tables["native_edges"]
    if len(native):
        probe_holm, native["p_holm"] = holm_with_probe_edges(edges, native)
        edges.loc[probe_holm.index, "mcnemar_p_holm"] = probe_holm
    else:
        native["p_holm"] = pd.Series(dtype=float)


def significant_edge_changes(edges: pd.DataFrame, alpha: float = ALPHA) -> int:
    """Probe-level lineage edges whose Holm-corrected McNemar p is below ``alpha``."""
    probe_edges = edges[edges["level"] == "probe"]
    return int((probe_edges["mcnemar_p_holm"] < alpha).sum())


def headline(tables: Mapping[str, pd.DataFrame], alpha: float = ALPHA) -> dict[str, Any]:
    """The pooled scope's key numbers, plus counts over the probe-level tests at ``alpha``."""
    pooled = tables["scopes"][tables["scopes"]["level"] == "pooled"].iloc[0]
    keys = ["n_models", "n_items", "mean_rate", "n_chance_items", "chance_rate",
            "mean_chance_items_rate", "mean_kappa", "H_family", "H_family_lo",
            "H_family_hi", "H_family_reason", "H_descendants", "H_descendants_lo",
            "H_descendants_hi", "H_descendants_reason", "effective_n", "effective_n_lo",
            "effective_n_hi", "variance_ratio", "independence_p", "mean_inherited_rate",
            "mean_introduced_rate", "mantel_r", "mantel_p", "mst_edge_recall"]
    out: dict[str, Any] = {k: _plain(pooled[k]) for k in keys}
    blast = tables["blast"][tables["blast"]["level"] == "pooled"]
    out["n_probes"] = int((tables["scopes"]["level"] == "probe").sum())
    out["n_edge_changes_significant"] = significant_edge_changes(tables["edges"], alpha)
    native = tables.get("native_edges")
    out["n_native_changes_significant"] = (0 if native is None or native.empty
                                           else int((native["p_holm"] < alpha).sum()))
    out["roots"] = [{k: _plain(v) for k, v in row.items() if k not in ("level", "scope")}
                    for row in blast.to_dict("records")]
    return out


def _plain(value: Any) -> object:
    """A JSON-ready Python value: numpy scalars unwrapped, NaN as None."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value
