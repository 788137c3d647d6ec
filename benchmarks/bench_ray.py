"""The ``ray`` executor's overhead: Ray workers x 1 thread against the local executor.

Each run scores the chosen probes for the whole family from scratch (a new AUDITKIT_CACHE_DIR:
new result cache and fingerprint cache), through :func:`auditkit.score.engine.score_family`,
the scoring stage of ``auditkit run``; the time covers what the user waits for in that stage,
for Ray the cluster's start and shutdown included. Runs alternate in ABBA order (local, ray,
ray, local, ...) so that a drift in the machine's load falls on both alike. After the runs, the
outcomes of the two executors are compared, and the tokens each member sent through the model
are counted (with the base's tokenizer) for per-token costs.

    .venv/bin/python benchmarks/bench_ray.py --family models/demo --selection quick \
        --probe 'bias.gender.*' --probe 'bias.race.*' --probe safety.jailbreak \
        --config local --config ray --config ray-serial --rounds 2 --json /tmp/bench_ray.json
"""
from __future__ import annotations

import argparse
import json
import math
import os
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

from auditkit.family import load_family
from auditkit.probes import load_probes
from auditkit.probes.kinds import get_kind
from auditkit.score.backends import get_backend
from auditkit.score.engine import score_family
from auditkit.score.executors import get_executor
from auditkit.score.settings import BackendSettings
from auditkit.store.cache import ResultCache
from auditkit.types import GenerationRequest, LoglikelihoodRequest

# A configuration: its settings. ``ray-serial`` asks for 2 CPUs per group, so a 2-CPU machine
# runs one group at a time with 2 threads, as the local executor does: it isolates what Ray
# itself costs (cluster start, worker start, transfers) from the change of parallelism. The
# ``-1t`` pair does the same with 1 thread each (2 torch threads on an overloaded 2-core machine
# spin on each other: benchmarks/README.md, "Contention").
CONFIGS = {
    "local": BackendSettings(threads=2),
    "ray": BackendSettings(executor="ray", ray_cpus_per_group=1),
    "ray-serial": BackendSettings(executor="ray", ray_cpus_per_group=2),
    "local-1t": BackendSettings(threads=1),
    "ray-serial-1t": BackendSettings(executor="ray", ray_cpus_per_group=2, threads=1),
}


def one_run(executor: str, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    """Score everything once with the configuration ``executor`` in a new cache directory."""
    cache_dir = Path(tempfile.mkdtemp(prefix=f"{executor}-", dir=workdir))
    os.environ["AUDITKIT_CACHE_DIR"] = str(cache_dir)
    family = load_family(args.family)
    probes = load_probes(names=args.probe or None, selection=args.selection)
    settings = CONFIGS[executor]
    opener = get_backend("hf", family, settings)
    load = os.getloadavg()[0]
    with ResultCache(cache_dir / "results.sqlite") as cache:
        t0 = time.perf_counter()
        stats = score_family(family, probes, cache=cache, opener=opener,
                             executor=get_executor(settings.executor, settings))
        wall = time.perf_counter() - t0
    return {"executor": executor, "wall_s": round(wall, 2), "scored": stats.scored,
            "groups": stats.group_timings, "load_before": load,
            "load_after": os.getloadavg()[0], "cache": str(cache_dir),
            "config": opener.scoring_config.key}


def outcomes(run: dict[str, Any], args: argparse.Namespace) -> dict[tuple[str, str, str], Any]:
    family = load_family(args.family)
    probes = load_probes(names=args.probe or None, selection=args.selection)
    out = {}
    with ResultCache(Path(run["cache"]) / "results.sqlite") as cache:
        for node in family.models:
            for probe in probes:
                found = cache.get_many(node.fingerprint, probe.version, run["config"],
                                       [i.id for i in probe.items])
                out.update({(node.name, probe.name, k): v for k, v in found.items()})
    return out


def compare(a: dict[tuple[str, str, str], Any], b: dict[tuple[str, str, str], Any]) -> dict[str, Any]:
    """Same keys, same outcomes (failed, chosen, reply) and the largest score difference."""
    diffs = [abs(a[k].score - b[k].score) for k in a
             if k in b and not (math.isnan(a[k].score) and math.isnan(b[k].score))]
    same = all(k in b and (a[k].failed, a[k].chosen, a[k].output) ==
               (b[k].failed, b[k].chosen, b[k].output) for k in a)
    return {"outcomes": len(a), "same_keys": set(a) == set(b), "same_outcomes": same,
            "max_score_diff": max(diffs, default=0.0)}


def token_volume(args: argparse.Namespace, found: dict[tuple[str, str, str], Any],
                 members: int) -> dict[str, int]:
    """Tokens per kind for ``members`` models: log-likelihood request tokens (context +
    continuation), generation prompts (chat template applied) and prompts to generate for;
    then the reply tokens of the outcomes ``found``."""
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(Path(args.family) / "base")
    probes = load_probes(names=args.probe or None, selection=args.selection)
    volume = {"loglik_tokens": 0, "prompt_tokens": 0, "reply_tokens": 0, "loglik_requests": 0,
              "prompts": 0, "replies": 0}
    for probe in probes:
        kind = get_kind(probe.kind)
        for item in probe.items:
            for req in kind.requests(probe, item):
                if isinstance(req, LoglikelihoodRequest):
                    volume["loglik_tokens"] += members * len(tok(req.context + req.continuation)
                                                             ["input_ids"])
                    volume["loglik_requests"] += members
                elif isinstance(req, GenerationRequest):
                    chat = tok.apply_chat_template([{"role": "user", "content": req.prompt}],
                                                   add_generation_prompt=True, tokenize=True)
                    ids = chat["input_ids"] if hasattr(chat, "keys") else chat
                    volume["prompt_tokens"] += members * len(ids)
                    volume["prompts"] += members
    for (_, _, _), outcome in found.items():
        if outcome.output:
            volume["reply_tokens"] += len(tok(outcome.output)["input_ids"])
            volume["replies"] += 1
    return volume


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--family", type=Path, default=Path("models/demo"))
    p.add_argument("--selection", default="quick", help="a selection; `all`: every item")
    p.add_argument("--probe", action="append", help="probe name glob (repeatable)")
    p.add_argument("--config", action="append", choices=list(CONFIGS),
                   help="configurations to alternate (repeatable; default local and ray)")
    p.add_argument("--rounds", type=int, default=2, help="each round runs every configuration, "
                   "in reverse order every other round (ABBA)")
    p.add_argument("--json", type=Path, default=Path("/tmp/bench_ray.json"))
    p.add_argument("--volume-only", action="store_true", help="score nothing: print the "
                   "tokens one member sends through the model for the chosen probes")
    args = p.parse_args()
    args.selection = None if args.selection == "all" else args.selection
    if args.volume_only:
        print(json.dumps(token_volume(args, {}, 1)))
        return
    workdir = Path(tempfile.mkdtemp(prefix="bench-ray-"))
    configs = args.config or ["local", "ray"]
    order = [x for r in range(args.rounds) for x in (configs if r % 2 == 0 else configs[::-1])]
    runs = []
    for executor in order:
        runs.append(one_run(executor, args, workdir))
        print(json.dumps({k: v for k, v in runs[-1].items() if k != "cache"}), flush=True)
        args.json.write_text(json.dumps({"runs": runs}, indent=1))
    local = next(r for r in runs if r["executor"].startswith("local"))
    found = outcomes(local, args)
    others = {r["executor"]: r for r in runs if r is not local}
    result = {"args": {k: str(v) for k, v in vars(args).items()}, "runs": runs,
              "comparison": {name: compare(found, outcomes(run, args))
                             for name, run in others.items()},
              "tokens": token_volume(args, found, len(load_family(args.family).models)),
              "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024}
    args.json.write_text(json.dumps(result, indent=1))
    print(json.dumps({k: result[k] for k in ("comparison", "tokens")}))


if __name__ == "__main__":
    main()
