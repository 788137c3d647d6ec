"""auditkit against lm-evaluation-harness on one probe, whole process, side by side.

    .venv/bin/python benchmarks/bench_pairs.py --workload pairs --runs 3 --threads 2

Workloads: ``pairs``, a CrowS-Pairs-sized pair probe (1,508 distinct pairs, see
``pair_bench/dataset.py``) imported with ``auditkit probes import crows-pairs``; ``choice``, the
repository's eight BBQ-style choice probes. Each run is a new process, measured from outside
(wall clock; CPU = user + system time of the process and its children, from ``wait4``; peak
RSS), the two approaches alternating (auditkit, lm-eval, auditkit, ...), the same model files
and thread count. auditkit: ``auditkit run --model M --probes P --fresh`` (every outcome
rescored; the fingerprints come from the cache the first run warms). lm-eval: ``lm_eval --model
hf`` on the same items exported as local ``multiple_choice`` tasks (``dataset_path: json``,
nothing downloaded; ``family_bench/lmeval_tasks.py``). Outcomes are compared item by item
(lm-eval's log-likelihoods turned into outcomes by auditkit's own outcome function).
Results: ``benchmarks/out/pairs-<workload>-<stamp>/summary.json`` and a printed table.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from family_bench.compare import agreement, read_auditkit, read_lmeval  # noqa: E402
from family_bench.lmeval_tasks import export_tasks  # noqa: E402
from pair_bench.dataset import pairs, write_csv  # noqa: E402

REPO = HERE.parent


def measure(cmd: list[str], env: dict[str, str], log: Path, cwd: Path) -> dict[str, Any]:
    """Run ``cmd`` to completion: wall seconds, CPU seconds (user + system), peak RSS."""
    load = os.getloadavg()[0]
    start = time.perf_counter()
    with log.open("w") as out:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=cwd)
        _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{cmd[:3]} failed (exit {status}); see {log}")
    return {"wall_s": round(wall, 2), "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
            "peak_rss_mb": round(usage.ru_maxrss / 1024, 1), "load_before": round(load, 2),
            "load_after": round(os.getloadavg()[0], 2)}


def prepare(workload: str, out: Path) -> Path:
    """The probe file (or directory) the workload scores."""
    if workload == "choice":
        return REPO / "probes" / "bias"
    csv = write_csv(pairs(REPO), out / "crows_pairs_anonymized.csv")
    subprocess.run([sys.executable, "-m", "auditkit", "probes", "import", "crows-pairs",
                    str(csv), "--out", str(out / "probe")], check=True, cwd=REPO)
    return out / "probe" / "bias.crows_pairs.yaml"


def probes_of(workload: str, path: Path) -> list[Any]:
    from auditkit.probes.battery import load_probes
    from auditkit.probes.load import load_probe

    if workload == "choice":
        return load_probes(path, names=["bias.*.bbq"])
    return [load_probe(path)]


def commands(args: argparse.Namespace, probe: Path, tasks: list[str], out: Path,
             run: int) -> dict[str, list[str]]:
    model_dir = args.family.resolve() / args.model
    select = ["--probe", "bias.*.bbq"] if args.workload == "choice" else []
    auditkit = [sys.executable, "-m", "auditkit", "run", "--family", str(args.family.resolve()),
                "--model", args.model, "--probes", str(probe), *select, "--fresh",
                "--threads", str(args.threads), "--out", str(out / f"auditkit-{run}")]
    lmeval = [str(args.lmeval_venv / "bin" / "lm_eval"), "--model", "hf", "--model_args",
              f"pretrained={model_dir},tokenizer={model_dir},dtype=float32",
              "--tasks", ",".join(tasks), "--include_path", str(out / "tasks"),
              "--batch_size", str(args.batch_size), "--device", "cpu", "--log_samples",
              "--output_path", str(out / f"lmeval-{run}")]
    return {"auditkit": auditkit, "lm-eval": lmeval}


def environment(args: argparse.Namespace, out: Path) -> dict[str, str]:
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads), HF_HUB_OFFLINE="1",
               HF_DATASETS_OFFLINE="1", TOKENIZERS_PARALLELISM="false",
               AUDITKIT_CACHE_DIR=str(out / "cache"))
    if args.src:   # score with this source tree (e.g. a `git archive` snapshot of a commit)
        env["PYTHONPATH"] = str(args.src)
    return env


def summarize(runs: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    med = {name: {k: statistics.median(r[k] for r in rs) for k in ("wall_s", "cpu_s",
                                                                   "peak_rss_mb")}
           for name, rs in runs.items()}
    ak, lm = med["auditkit"], med["lm-eval"]
    return {"median": med, "lmeval_over_auditkit_wall": round(lm["wall_s"] / ak["wall_s"], 3),
            "lmeval_over_auditkit_cpu": round(lm["cpu_s"] / ak["cpu_s"], 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workload", choices=("pairs", "choice"), default="pairs")
    parser.add_argument("--family", type=Path, default=REPO / "models" / "demo")
    parser.add_argument("--model", default="base")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch-size", default="32")
    parser.add_argument("--lmeval-venv", type=Path, default=Path("/tmp/lmeval"))
    parser.add_argument("--src", type=Path, help="auditkit source tree to run (PYTHONPATH)")
    args = parser.parse_args()
    out = HERE / "out" / f"pairs-{args.workload}-{time.strftime('%Y%m%d-%H%M%S')}"
    out.mkdir(parents=True)
    probe = prepare(args.workload, out)
    probes = probes_of(args.workload, probe)
    from transformers import AutoTokenizer

    tasks = export_tasks(probes, AutoTokenizer.from_pretrained(args.family / args.model),
                         out / "tasks")
    env = environment(args, out)
    runs: dict[str, list[dict[str, Any]]] = {"auditkit": [], "lm-eval": []}
    for run in range(args.runs):
        for name, cmd in commands(args, probe, list(tasks), out, run).items():
            # from the --src tree, so that `-m auditkit` imports it (and not the cwd's)
            runs[name].append(measure(cmd, env, out / f"{name}-{run}.log", args.src or REPO))
            print(name, run, runs[name][-1], flush=True)
    last = args.runs - 1
    mine = read_auditkit(out / f"auditkit-{last}" / "results.parquet")
    theirs = read_lmeval(args.model, out / f"lmeval-{last}", tasks, probes)
    summary = {"workload": args.workload, "items": int(len(mine)), "threads": args.threads,
               "batch_size": args.batch_size, "runs": runs, **summarize(runs),
               "agreement": agreement(mine, theirs), "commands": commands(args, probe,
                                                                           list(tasks), out, 0)}
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    print(json.dumps({k: summary[k] for k in ("median", "lmeval_over_auditkit_wall",
                                              "lmeval_over_auditkit_cpu")}, indent=2))
    print(json.dumps(summary["agreement"], indent=2))


if __name__ == "__main__":
    main()
