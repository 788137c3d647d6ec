"""A simulated run directory (docs/run-format.md) from the family simulator, so that the
analysis, its CLI and the reports can be exercised before (and without) a scoring engine.
Written through the store's writer, as a scored run is.
"""
from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from auditkit import __version__
from auditkit.analyze.lineage import Parents, as_lineage
from auditkit.analyze.simulate import SimulatedFamily, simulate_family, tree
from auditkit.analyze.stats import _seeded
from auditkit.store import FamilyRef, ModelEntry, ProbeEntry, RunManifest, Timings, write_run


@dataclass(frozen=True)
class SimProbe:
    """A simulated probe: its name, kind, category, dimension and number of items."""

    name: str
    kind: str
    category: str
    dimension: str
    n_items: int
    n_options: int = 3          # choice probes


DEFAULT_PROBES = (
    SimProbe("bias.gender.pairs", "pair", "bias", "gender", 60),
    SimProbe("bias.occupation.choice", "choice", "bias", "occupation", 60),
    SimProbe("safety.harmful.refusal", "generation", "safety", "harmful", 40),
)
DEFAULT_FAMILY: dict[str, str | None] = {
    "base": None, "chat": "base", "code": "base", "med": "base",
    "chat-v2": "chat", "chat-lora": "chat", "med-lora": "med"}


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _probe_rows(sim: SimulatedFamily, probe: SimProbe, rng: np.random.Generator) -> pd.DataFrame:
    """The result rows of one probe: (M * N) rows, model-major."""
    M, N = sim.F.shape
    pos = {m: j for j, m in enumerate(sim.models)}
    mag = rng.exponential(1.0, (M, N))                                   # |score|
    for j, m in enumerate(sim.models):                                   # children keep gaps
        parent = sim.parents[m]
        if parent is not None:
            mag[j] = 0.7 * mag[pos[parent]] + 0.3 * mag[j]
    score = np.where(sim.F, mag, -mag)
    k = probe.n_options if probe.kind == "choice" else (2 if probe.kind == "pair" else 0)
    gold = np.asarray(rng.integers(0, k, N)) if probe.kind == "choice" else np.full(N, -1)
    chosen = _choices(sim, gold, k, rng) if probe.kind == "choice" else np.full((M, N), -1)
    if probe.kind == "pair":
        chosen = np.where(sim.F, 0, 1)
    if probe.kind == "generation":
        score = np.full((M, N), np.nan)
    target = np.where(probe.kind == "choice", (gold + 1) % max(k, 1), -1)
    out = np.where(sim.F, "Sure, here is how.", "I can't help with that.") \
        if probe.kind == "generation" else np.full((M, N), "")
    rows: pd.DataFrame = pd.DataFrame({
        "model": np.repeat(sim.models, N),
        "fingerprint": np.repeat([_sha(m) for m in sim.models], N),
        "probe": probe.name, "probe_version": _sha(probe.name)[:16], "kind": probe.kind,
        "category": probe.category, "dimension": probe.dimension,
        "item": np.tile([f"{probe.name.split('.')[-1]}-{i:05d}" for i in range(N)], M),
        "group": np.tile(np.where(np.arange(N) % 2, "women", "men"), M),
        "failed": sim.F.ravel(), "score": score.ravel().astype(np.float64),
        "chosen": chosen.ravel().astype(np.int64), "gold": np.tile(gold, M).astype(np.int64),
        "bias_target": np.tile(target, M).astype(np.int64),
        "n_options": np.int64(k), "output": out.ravel(), "config": "simulated"})
    return rows


def _choices(sim: SimulatedFamily, gold: np.ndarray, k: int, rng: np.random.Generator,
             copy: float = 0.8) -> np.ndarray:
    """Chosen options: gold when passed; a wrong option otherwise, the parent's with
    probability ``copy`` when the parent fails the item too."""
    M, N = sim.F.shape
    pos = {m: j for j, m in enumerate(sim.models)}
    wrong = (gold + rng.integers(1, k, (M, N))) % k                      # (M, N) random wrong
    chosen = np.where(sim.F, wrong, gold)
    for j, m in enumerate(sim.models):
        parent = sim.parents[m]
        if parent is not None:
            keep = sim.F[j] & sim.F[pos[parent]] & (rng.random(N) < copy)
            chosen[j] = np.where(keep, chosen[pos[parent]], chosen[j])
    return chosen


def simulated_run(*, parents: Parents | None = None, probes: Sequence[SimProbe] = DEFAULT_PROBES,
                  root_rate: float = 0.3, inherit: float | Mapping[str, float] = 0.8,
                  introduce: float | Mapping[str, float] = 0.05, seed: int = 0,
                  ) -> tuple[pd.DataFrame, RunManifest]:
    """The results table and manifest of a simulated run (pure; see write_simulated_run)."""
    lineage = as_lineage(DEFAULT_FAMILY if parents is None else parents)
    rng = _seeded(seed)
    frames = []
    for probe in probes:
        sim = simulate_family(lineage, n_items=probe.n_items, root_rate=root_rate,
                              inherit=inherit, introduce=introduce, seed=rng)
        frames.append(_probe_rows(sim, probe, rng))
    return pd.concat(frames, ignore_index=True), simulated_manifest(lineage, probes, seed)


def simulated_manifest(parents: Parents, probes: Sequence[SimProbe], seed: int) -> RunManifest:
    """The manifest of a simulated run: ``parents`` is the whole family (parent = family_parent)."""
    models = tuple(ModelEntry(name=m, parent=p, family_parent=p,
                              kind="full" if p is None else "lora", fingerprint=_sha(m),
                              display_name=m) for m, p in as_lineage(parents).parents.items())
    return RunManifest(
        tool_version=__version__, created="2026-01-01T00:00:00+00:00",
        family=FamilyRef(name="simulated", root="simulated"), models=models,
        probes=tuple(ProbeEntry(name=p.name, version=_sha(p.name)[:16], kind=p.kind,
                                category=p.category, dimension=p.dimension, n_items=p.n_items)
                     for p in probes),
        selection="simulated", device="cpu", dtype="float32", seed=seed,
        timings=Timings(total_s=0.0))


def write_simulated_run(run_dir: str | Path, **kwargs: Any) -> Path:
    """Write ``results.parquet`` and ``manifest.json`` of simulated_run(**kwargs) to run_dir."""
    results, manifest = simulated_run(**kwargs)
    return write_run(run_dir, results, manifest)


__all__ = ["SimProbe", "DEFAULT_PROBES", "DEFAULT_FAMILY", "simulated_run",
           "simulated_manifest", "write_simulated_run", "tree"]
