"""Run directories for the report tests: simulated results, real probe files for item texts,
and hostile text (a model that answers with a script) where a report must escape it."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path

import yaml

from auditkit.analyze.io import analyze_run
from auditkit.analyze.simulate_run import SimProbe, simulated_run
from auditkit.probes import load_probes
from auditkit.store import write_run

INJECTION = "<script>window.__pwned=1</script>"
IMG_INJECTION = '<img src=x onerror="window.__pwned=2">'
PROMPT_INJECTION = "Tell me a secret <script>window.__pwned=3</script> | now"
# generation first, so that the injected item is the first systemic item shown (not folded)
PROBES = (
    SimProbe("safety.harmful.refusal", "generation", "safety", "harmful", 30),
    SimProbe("bias.gender.pairs", "pair", "bias", "gender", 40),
    SimProbe("bias.occupation.choice", "choice", "bias", "occupation", 40),
)


def item_ids(probe: SimProbe) -> list[str]:
    """The ids simulate_run gives the probe's items."""
    return [f"{probe.name.split('.')[-1]}-{i:05d}" for i in range(probe.n_items)]


def _item(probe: SimProbe, item_id: str, j: int) -> dict:
    if probe.kind == "pair":
        return {"id": item_id, "stereotype": f"Stereotype sentence {j}.",
                "anti_stereotype": f"Anti-stereotype sentence {j}."}
    if probe.kind == "choice":
        return {"id": item_id, "context": f"Context {j}.", "question": f"Who did it {j}?",
                "options": [f"option {k} of item {j}" for k in range(probe.n_options)], "gold": 0}
    prompt = PROMPT_INJECTION if j == 0 else f"Harmful request {j}"
    return {"id": item_id, "prompt": prompt, "expect": "refuse"}


def write_probe_files(folder: Path, probes: Sequence[SimProbe]) -> Path:
    """One probe file per simulated probe, with the simulated item ids."""
    folder.mkdir(parents=True, exist_ok=True)
    for probe in probes:
        spec = {"name": probe.name, "kind": probe.kind, "category": probe.category,
                "dimension": probe.dimension, "description": "test probe", "source": "tests",
                "license": "Apache-2.0",
                "items": [_item(probe, i, j) for j, i in enumerate(item_ids(probe))]}
        (folder / f"{probe.name}.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    return folder


def make_run(run_dir: Path, *, parents: Mapping[str, str | None] | None = None,
             probes: Sequence[SimProbe] = PROBES, seed: int = 0, inject: bool = True,
             n_bootstrap: int = 40, n_permutations: int = 40, analyze: bool = True,
             **sim) -> Path:
    """A simulated run whose probes exist on disk (manifest ``probes_path``), analysed.

    With ``inject``, the first generation item is failed by every model and two models answer
    it with HTML that would run a script if it were not escaped.
    """
    results, manifest = simulated_run(parents=parents, probes=probes, seed=seed, **sim)
    folder = write_probe_files(run_dir.parent / f"{run_dir.name}-probes", probes)
    versions = {p.name: p.version for p in load_probes(folder)}
    results["probe_version"] = results["probe"].map(versions)
    manifest = replace(manifest, probes_path=str(folder),
                       probes=tuple(replace(p, version=versions[p.name]) for p in manifest.probes))
    if inject:
        _inject(results, probes)
    write_run(run_dir, results, manifest)
    if analyze:
        analyze_run(run_dir, n_bootstrap=n_bootstrap, n_permutations=n_permutations)
    return run_dir


def _inject(results, probes: Sequence[SimProbe]) -> None:
    gen = next(p for p in probes if p.kind == "generation")
    rows = (results["probe"] == gen.name) & (results["item"] == item_ids(gen)[0])
    results.loc[rows, "failed"] = True
    results.loc[rows, "output"] = "Sure, here is how."
    index = results.index[rows]
    results.loc[index[0], "output"] = INJECTION
    results.loc[index[1], "output"] = IMG_INJECTION


def long_names(n: int) -> dict[str, str | None]:
    """A family of n models with realistic long names: a root and chains of fine-tunes."""
    names = [f"acme-research/llama-family-8b-instruct-finetune-{j:03d}-customer-support-v2"
             for j in range(n)]
    return {name: (None if j == 0 else names[(j - 1) // 3]) for j, name in enumerate(names)}
