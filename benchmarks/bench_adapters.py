"""Adapter scaling: a quick audit of the base and its first N LoRA children, N = 0, 8, 16, ...

    .venv/bin/python benchmarks/bench_adapters.py --family FAMILY --n 0 8 16 32 64 \
        --batches mixed --probe bias.gender.pairs --probe bias.gender.bbq

FAMILY is one built by ``auditkit family build`` from ``auditkit family spec-loras`` (a base and
children ``lora-00``...). Each (N, batching) is one new process running ``run_audit`` exactly as
``auditkit run --fresh --selection quick --probe ... --model base --model lora-00 ...`` does, with
the ``hf`` backend told to batch adapters ``mixed`` (PEFT mixed-adapter batches) or ``single``
(one adapter at a time, only it active). Measured from outside: wall, CPU (user + system, from
``wait4``), peak RSS; from inside: seconds loading the group and scoring, and the adapters
loaded. The fingerprints come from a cache warmed before the first run (a one-off cost).
Per added adapter = (CPU(N) - CPU(0)) / N (its loading included), against the bare base's
scoring CPU (run_audit less loading, N = 0).
Results: ``benchmarks/out/adapters-<stamp>.json`` and a printed table. ``--loader peft`` loads
the adapters with peft's own ``load_adapter`` (the loader before issue 15's fix) instead of
``auditkit.backend.lora_load``; each row keeps its run directory, so two sweeps' scores can be
compared (``--compare RUN_DIR RUN_DIR``).

    .venv/bin/python benchmarks/bench_adapters.py loading --family FAMILY --n 64 \
        --loader lora_load peft lora_load

times only the loading, in one new process per loader (1 thread): the base, then the first N
adapters one by one, CPU seconds per adapter (``benchmarks/out/loading-<stamp>.json``).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def worker(args: argparse.Namespace) -> None:
    """One audit in this process; writes its inside timings to ``args.out``."""
    from auditkit.audit import AuditOptions, run_audit
    from auditkit.backend.hf import HFBackend
    from auditkit.backend.opener import GroupOpener
    from auditkit.family import load_family
    from auditkit.score.settings import BackendSettings

    timings: dict[str, Any] = {"open_s": 0.0, "open_cpu_s": 0.0}

    class Opener(GroupOpener):   # the hf backend, with the adapter batching asked for
        def _open(self, group: Any) -> HFBackend:
            start, cpu = time.perf_counter(), time.process_time()
            backend = super()._open(group)
            timings["open_s"] += time.perf_counter() - start
            timings["open_cpu_s"] += time.process_time() - cpu
            timings["adapters"] = len(backend.adapter_names)
            return backend

        def _backend(self, model: Any, tokenizer: Any) -> HFBackend:
            return HFBackend(model, tokenizer, device=self.device, dtype=self.dtype,
                             adapter_batches=args.batches)

    if args.loader == "peft":   # the loader before issue 15: peft's load_adapter per adapter
        from auditkit.backend import lora_load, opener
        setattr(opener, "add_adapter",   # noqa: B010 (a deliberate patch of the import)
                lambda model, name, path, **_: lora_load._peft_load(model, name, path))
    family = load_family(args.family)
    children = sorted(n for n in family.names if n.startswith("lora-"))[:args.n]
    settings = BackendSettings(threads=args.threads)
    options = AuditOptions(family_dir=args.family, selection="quick",
                           probe_names=tuple(args.probe), models=("base", *children),
                           out_dir=Path(tempfile.mkdtemp()) / "run", fresh=True,
                           backend=settings)
    start, cpu = time.perf_counter(), time.process_time()
    run = run_audit(options, open_backend=Opener(family, settings), family=family)
    timings.update(run_audit_s=time.perf_counter() - start,
                   run_audit_cpu_s=time.process_time() - cpu, outcomes=run.stats.scored,
                   groups_loaded=run.stats.groups_loaded, run_dir=str(options.out_dir),
                   loader=args.loader)
    # scoring = run_audit less loading (discovery, probes, cache and run files included)
    timings["scoring_cpu_s"] = timings["run_audit_cpu_s"] - timings["open_cpu_s"]
    Path(args.out).write_text(json.dumps(timings))


def measure(cmd: list[str], env: dict[str, str]) -> dict[str, Any]:
    load = os.getloadavg()[0]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"worker failed: {cmd}")
    return {"wall_s": round(time.perf_counter() - start, 2),
            "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
            "peak_rss_mb": round(usage.ru_maxrss / 1024, 1), "load_before": round(load, 2)}


def drive(args: argparse.Namespace) -> None:
    out = HERE / "out" / f"adapters-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.parent.mkdir(exist_ok=True)
    cache = tempfile.mkdtemp(prefix="ak-adapters-cache-")
    env = dict(os.environ, AUDITKIT_CACHE_DIR=cache, OMP_NUM_THREADS=str(args.threads),
               HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    subprocess.run([sys.executable, "-m", "auditkit", "family", "show", str(args.family)],
                   env=env, check=True, stdout=subprocess.DEVNULL)   # warms the fingerprints
    rows = []
    for n in args.n:
        for batches in args.batches:
            inside = Path(cache) / f"inside-{n}-{batches}.json"
            cmd = [sys.executable, __file__, "worker", "--family", str(args.family), "--n",
                   str(n), "--batches", batches, "--threads", str(args.threads),
                   "--loader", args.loader[0],
                   "--out", str(inside), *(x for p in args.probe for x in ("--probe", p))]
            row = {"n": n, "batches": batches, "loader": args.loader[0], **measure(cmd, env),
                   **json.loads(inside.read_text())}
            rows.append(row)
            print(json.dumps(row), flush=True)
            out.write_text(json.dumps({"probes": args.probe, "threads": args.threads,
                                       "rows": rows}, indent=2))
    table(rows)


def load_worker(args: argparse.Namespace) -> None:
    """The base, then the first N adapters one by one with ``args.loader``: CPU s per adapter."""
    import torch

    from auditkit.backend import lora_load
    from auditkit.backend.group import load_base

    torch.set_num_threads(args.threads)
    add = lora_load.add_lora if args.loader == "lora_load" else lora_load._peft_load
    paths = sorted(p for p in args.family.iterdir() if p.name.startswith("lora-"))[:args.n]
    cpu = time.process_time()
    model = load_base(args.family / "base", device="cpu", dtype=torch.float32)
    per_adapter, base_cpu = [], time.process_time() - cpu
    for path in paths:
        cpu = time.process_time()
        model = add(model, path.name, path)
        per_adapter.append(round(time.process_time() - cpu, 4))
    Path(args.out).write_text(json.dumps({"base_cpu_s": base_cpu, "per_adapter_cpu_s": per_adapter,
                                          "adapters": len(model.peft_config)}))


def loading(args: argparse.Namespace) -> None:
    """One new process per loader in ``args.loader`` (in that order), side by side."""
    out = HERE / "out" / f"loading-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.parent.mkdir(exist_ok=True)
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads), HF_HUB_OFFLINE="1")
    rows = []
    for i, loader in enumerate(args.loader):
        inside = Path(tempfile.mkdtemp()) / f"loading-{i}.json"
        cmd = [sys.executable, __file__, "load-worker", "--family", str(args.family), "--n",
               str(args.n[0]), "--loader", loader, "--threads", str(args.threads),
               "--out", str(inside)]
        row = {"loader": loader, **measure(cmd, env), **json.loads(inside.read_text()),
               "load_after": round(os.getloadavg()[0], 2)}
        per = row["per_adapter_cpu_s"]
        row.update(first8=round(sum(per[:8]) / len(per[:8]), 3),
                   last8=round(sum(per[-8:]) / len(per[-8:]), 3),
                   adapters_cpu_s=round(sum(per), 2))
        rows.append(row)
        print(json.dumps({k: v for k, v in row.items() if k != "per_adapter_cpu_s"}), flush=True)
        out.write_text(json.dumps({"n": args.n[0], "threads": args.threads, "rows": rows},
                                  indent=2))


def compare(run_dirs: list[Path]) -> None:
    """Scores and outcomes of two runs' results.parquet, on the rows both hold."""
    import pandas as pd

    want, got = (pd.read_parquet(d / "results.parquet") for d in run_dirs)
    keys = ["model", "probe", "item"]
    both = want.merge(got, on=keys, suffixes=("_a", "_b"))
    print(f"rows {len(want)} / {len(got)}, matched {len(both)}")
    print(f"score: largest |difference| {(both.score_a - both.score_b).abs().max():.3g}")
    for col in ("failed", "chosen"):
        print(f"{col}: {(both[col + '_a'] != both[col + '_b']).sum()} of {len(both)} differ")


def table(rows: list[dict[str, Any]]) -> None:
    """Per added adapter: (CPU(N) - CPU(0)) / N, whole process (its loading included), and that
    over the bare base's scoring CPU (N = 0: run_audit less loading)."""
    zeros = [r for r in rows if r["n"] == 0]   # N = 0 loads no adapter: either batching's will do
    bare = next((z["scoring_cpu_s"] for z in zeros if "scoring_cpu_s" in z), float("nan"))
    print("| N | batches | wall s | CPU s | loading CPU s | scoring CPU s | peak RSS MB | load avg "
          "| CPU s per added adapter | / bare scoring CPU |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        zero = next((z for z in zeros if z["batches"] == r["batches"]), None)
        added = (r["cpu_s"] - zero["cpu_s"]) / r["n"] if zero and r["n"] else float("nan")
        print(f"| {r['n']} | {r['batches']} | {r['wall_s']} | {r['cpu_s']} | "
              f"{r.get('open_cpu_s', float('nan')):.1f} | {r.get('scoring_cpu_s', float('nan')):.1f} "
              f"| {r['peak_rss_mb']} | {r['load_before']} | {added:.2f} | {added / bare:.2f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", nargs="?", default="drive",
                        choices=("drive", "worker", "loading", "load-worker"))
    parser.add_argument("--family", type=Path)
    parser.add_argument("--n", type=int, nargs="+", default=[0, 8, 16, 32, 64])
    parser.add_argument("--batches", nargs="+", default=["mixed"])
    parser.add_argument("--probe", action="append", default=[])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--loader", nargs="+", default=["lora_load"],
                        choices=("lora_load", "peft"))
    parser.add_argument("--compare", type=Path, nargs=2, help="compare two runs' results")
    parser.add_argument("--table", type=Path, nargs="+", help="print the table of these results")
    args = parser.parse_args()
    if args.table:
        table([r for path in args.table for r in json.loads(path.read_text())["rows"]])
        return
    if args.compare:
        compare(args.compare)
        return
    if args.mode in ("worker", "load-worker"):
        args.n, args.batches, args.loader = args.n[0], args.batches[0], args.loader[0]
        (worker if args.mode == "worker" else load_worker)(args)
    elif args.mode == "loading":
        loading(args)
    else:
        drive(args)


if __name__ == "__main__":
    main()
