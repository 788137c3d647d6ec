"""One model group of a family, one request type, one engine setting: wall and CPU seconds.

The A/B measurements behind the engine's CPU defaults (benchmarks/README.md, "Engine choices"):

    .venv/bin/python benchmarks/bench_engine.py --family models/demo --group 0 --kind generate \
        --probe safety.harmful --budget 2048 [--hf-generate]
    .venv/bin/python benchmarks/bench_engine.py --family models/demo --group 0 --kind loglikelihood \
        --category bias --budget 8192

Prints the seconds, the tokens sent through the model and a hash of the outputs (equal hashes:
identical replies; log-likelihoods are hashed rounded to 4 decimals).
"""
from __future__ import annotations

import argparse
import hashlib
import time
from pathlib import Path

from auditkit.backend.opener import GroupOpener
from auditkit.family import load_family
from auditkit.probes.battery import load_probes
from auditkit.probes.kinds import get_kind
from auditkit.score.plan import plan_groups
from auditkit.score.settings import BackendSettings


def requests_for(probes, group):
    """Every item of ``probes`` for every scored member of ``group``: (requests, adapters)."""
    requests, adapters = [], []
    for probe in probes:
        for item in probe.items:
            for member in group.scored:
                reqs = get_kind(probe.kind).requests(probe, item)
                requests += reqs
                adapters += [group.adapter_key(member)] * len(reqs)
    return requests, adapters


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--family", type=Path, required=True)
    p.add_argument("--group", type=int, default=0, help="index into plan_groups(family)")
    p.add_argument("--kind", choices=["generate", "loglikelihood"], required=True)
    p.add_argument("--probe", action="append", help="probe name glob (repeatable)")
    p.add_argument("--category", action="append")
    p.add_argument("--selection", default="quick")
    p.add_argument("--budget", type=int, default=None, help="token budget (default: engine's)")
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--hf-generate", action="store_true", help="model.generate, not own decoding")
    args = p.parse_args()

    family = load_family(args.family)
    probes = load_probes(names=args.probe, categories=args.category, selection=args.selection)
    group = plan_groups(family)[args.group]
    settings = BackendSettings(token_budget=args.budget, threads=args.threads)
    with GroupOpener(family, settings).open(group) as backend:
        backend.own_decoding = backend.own_decoding and not args.hf_generate
        requests, adapters = requests_for(probes, group)
        wall, cpu = time.perf_counter(), time.process_time()
        out = getattr(backend, args.kind)(requests, adapters=adapters)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    text = "\n".join(o if isinstance(o, str) else f"{o[0]:.4f} {o[1]}" for o in out)
    runner = backend.gen_runner if args.kind == "generate" else backend.runner
    print(f"group {group.label}: {args.kind}, {len(requests)} requests, budget "
          f"{runner.token_budget}, own decoding {backend.own_decoding}: wall {wall:.1f} s, "
          f"CPU {cpu:.1f} s, tokens {backend.tokens_run}, "
          f"outputs {hashlib.sha256(text.encode()).hexdigest()[:12]}")


if __name__ == "__main__":
    main()
