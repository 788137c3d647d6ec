"""Whole-family audit throughput: auditkit vs a naive loop vs lm-evaluation-harness (not a test).

    .venv/bin/python benchmarks/bench_family.py [--family models/demo] [--selection quick]
        [--approach auditkit --approach naive --approach lm-eval]
        [--naive-model NAME ...] [--lmeval-model NAME ...] [--lmeval-batch-size 16]

Every approach runs in processes of its own (peak RSS per approach from wait4), offline
(HF_HUB_OFFLINE=1, HF_DATASETS_OFFLINE=1), on the same items:

0. peak: the best fp32 GFLOP/s of a 2048^3 torch matmul on this machine (the reference for
   "% of peak"); prep: fingerprints of every member and the fp32 conversion of every GGUF
   member into a fresh cache (the one-off work of a first-ever run; timed, reported apart).
1. auditkit: ``run_audit`` with a fresh result cache (fingerprints and GGUF conversion warm,
   copied from prep), then the same run again in a new process (every outcome a cache hit).
2. naive: each model loaded alone with ``load_model``, each request scored alone at batch 1
   with every position projected to the vocabulary, same requests and outcome functions.
3. lm-eval: ``lm_eval --model hf`` (benchmarks/.venv-lmeval) once per model on the items
   exported as its tasks (see family_bench/lmeval_tasks.py).

Writes benchmarks/out/family-<stamp>.json and prints a table. Workers: family_bench/.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(BENCH))

from family_bench import compare, report  # noqa: E402

APPROACHES = ("auditkit", "naive", "lm-eval")


def run_proc(cmd: list[str], env: dict, log: Path) -> dict:
    """Run ``cmd``; its wall time, exit code, peak RSS and CPU time (its own, via wait4)."""
    t0 = time.perf_counter()
    with log.open("w") as fh:
        proc = subprocess.Popen(cmd, env=env, stdout=fh, stderr=subprocess.STDOUT, cwd=REPO)
        _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    result = {"cmd": cmd, "wall_s": time.perf_counter() - t0, "rc": proc.returncode,
              "maxrss_kb": usage.ru_maxrss, "cpu_s": usage.ru_utime + usage.ru_stime,
              "log": str(log)}
    if proc.returncode != 0:
        tail = "".join(log.read_text().splitlines(keepends=True)[-30:])
        raise SystemExit(f"{' '.join(cmd[:4])} ... failed ({proc.returncode}):\n{tail}")
    return result


def device_args(args: argparse.Namespace) -> list[str]:
    return ["--device", args.device, "--dtype", args.dtype]


def worker(python: str, module: str, *args: str) -> list[str]:
    return [python, "-m", f"family_bench.{module}", *map(str, args)]


def base_env(cache: Path) -> dict:
    """Offline, the warm or cold cache, and the probe snapshot (see ``snapshot_probes``)."""
    return dict(os.environ, PYTHONPATH=str(BENCH), AUDITKIT_CACHE_DIR=str(cache),
                HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", TRANSFORMERS_OFFLINE="1")


def snapshot_probes(tmp: Path) -> Path:
    """A copy of the built-in probes that every process reads (AUDITKIT_PROBES), so that an
    edit to probes/ during the benchmark cannot change probe versions between runs."""
    from auditkit.paths import builtin_probes_dir

    snapshot = tmp / "probes"
    shutil.copytree(builtin_probes_dir(), snapshot)
    os.environ["AUDITKIT_PROBES"] = str(snapshot)
    return snapshot


def machine() -> dict:
    model = next((line.split(":", 1)[1].strip() for line in
                  Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor())
    return {"cpu": model, "cores": os.cpu_count(), "python": platform.python_version(),
            "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "loadavg_start": os.getloadavg(), "gpu": "none available in this task"}


def prepare(args: argparse.Namespace, tmp: Path, out: dict) -> Path:
    """Peak matmul, then a warm cache (fingerprints + GGUF conversions) for every approach."""
    py = sys.executable
    peak_json, prep_json, warm = tmp / "peak.json", tmp / "prep.json", tmp / "cache-warm"
    out["peak_proc"] = run_proc(worker(py, "prep_worker", "peak", peak_json),
                                base_env(warm), tmp / "peak.log")
    out["peak"] = json.loads(peak_json.read_text())
    out["prep_proc"] = run_proc(worker(py, "prep_worker", "prep", prep_json, args.family),
                                base_env(warm), tmp / "prep.log")
    out["prep"] = json.loads(prep_json.read_text())
    return warm


def cold_cache(warm: Path, path: Path) -> Path:
    """An empty result cache with the warm fingerprints and GGUF conversions."""
    path.mkdir()
    if (warm / "fingerprints.json").is_file():
        shutil.copy2(warm / "fingerprints.json", path / "fingerprints.json")
    if (warm / "gguf").is_dir():
        (path / "gguf").symlink_to(warm / "gguf", target_is_directory=True)
    return path


def run_auditkit(args: argparse.Namespace, tmp: Path, warm: Path, out: dict) -> None:
    cache = cold_cache(warm, tmp / "cache-auditkit")
    models = [a for m in args.model for a in ("--model", m)] + device_args(args)
    for label, extra in (("cold", ["--measure"]), ("cache_hit", [])):
        result = tmp / f"auditkit-{label}.json"
        cmd = worker(sys.executable, "auditkit_worker", result, args.family,
                     tmp / f"run-{label}", "--selection", args.selection, *models, *extra)
        out[f"auditkit_{label}_proc"] = run_proc(cmd, base_env(cache), tmp / f"{label}.log")
        out[f"auditkit_{label}"] = json.loads(result.read_text())


def run_naive(args: argparse.Namespace, tmp: Path, warm: Path, out: dict) -> None:
    result, rows = tmp / "naive.json", tmp / "naive-rows.jsonl"
    models = [a for m in args.naive_model for a in ("--model", m)] + device_args(args)
    cmd = worker(sys.executable, "naive_worker", result, rows, args.family,
                 "--selection", args.selection, *models)
    out["naive_proc"] = run_proc(cmd, base_env(warm), tmp / "naive.log")
    out["naive"] = json.loads(result.read_text())
    out["naive_rows"] = str(rows)


def run_lmeval(args: argparse.Namespace, tmp: Path, warm: Path, family, probes,
               out: dict) -> None:
    """One lm_eval invocation per model (members it cannot load are listed as skipped)."""
    from family_bench.lmeval_tasks import export_tasks, model_args

    from auditkit.backend.load import load_tokenizer

    os.environ["AUDITKIT_CACHE_DIR"] = str(warm)     # GGUF members: the warm conversion
    python = str(args.lmeval_venv / "bin" / "python")
    env = dict(base_env(warm), HF_DATASETS_CACHE=str(tmp / "hf-datasets"))
    out["lmeval"], out["lmeval_skipped"] = {}, []
    for name in args.lmeval_model or family.names:
        margs = model_args(family, name, args.dtype)
        if margs is None:
            out["lmeval_skipped"].append(name)
            continue
        base = tmp / "lmeval" / name
        tasks = export_tasks(probes, load_tokenizer(family, name), base / "tasks")
        result = base / "measure.json"
        cmd = worker(python, "lmeval_worker", result, "--", "--model", "hf", "--model_args",
                     margs, "--tasks", ",".join(tasks), "--include_path", base / "tasks",
                     "--batch_size", args.lmeval_batch_size, "--device", args.device,
                     "--output_path", base / "out", "--log_samples")
        proc = run_proc(cmd, env, base.with_suffix(".log"))
        out["lmeval"][name] = {"proc": proc, "worker": json.loads(result.read_text()),
                               "tasks": tasks, "samples": str(base / "out")}


def summarize(args: argparse.Namespace, raw: dict, family, probes) -> dict:
    """Per-approach figures, the floors, and outcome agreement with auditkit."""
    n_ll = sum(len(p.items) for p in probes if p.kind != "generation")
    n_gen = sum(len(p.items) for p in probes if p.kind == "generation")
    peak = raw["peak"]["best_gflops"]
    common = {"n_family": len(family.names), "n_loglik": n_ll, "n_generation": n_gen,
              "peak_gflops": peak}
    figures, agree = {}, {}
    if "auditkit_cold" in raw:
        n = len(args.model or family.names)
        figures["auditkit"] = report.approach_figures(
            [raw["auditkit_cold_proc"]], [raw["auditkit_cold"]], n_models=n, **common)
        ref = compare.read_auditkit(Path(raw["auditkit_cold"]["results"]))
    if "naive" in raw:
        figures["naive"] = report.approach_figures(
            [raw["naive_proc"]], [raw["naive"]], n_models=len(args.naive_model or family.names),
            **common)
        if "auditkit_cold" in raw:
            agree["naive"] = compare.agreement(ref, compare.read_naive(Path(raw["naive_rows"])))
    if raw.get("lmeval"):
        runs = raw["lmeval"]
        figures["lm-eval"] = report.approach_figures(
            [r["proc"] for r in runs.values()], [r["worker"] for r in runs.values()],
            n_models=len(runs), **common)
        if "auditkit_cold" in raw:
            rows = [compare.read_lmeval(m, Path(r["samples"]), r["tasks"], probes)
                    for m, r in runs.items()]
            agree["lm-eval"] = compare.agreement(ref, compare.pd.concat(rows))
    return {"figures": figures, "agreement": agree, "floors": floors(raw, figures),
            "items_per_model": {"loglik": n_ll, "generation": n_gen},
            "probes": [{"name": p.name, "kind": p.kind, "items": len(p.items)} for p in probes]}


def floors(raw: dict, figures: dict) -> dict:
    out = {}
    if "auditkit" in figures and "lm-eval" in figures:
        a, b = figures["auditkit"], figures["lm-eval"]
        for key in ("loglik_item_models_per_s", "loglik_item_models_per_s_e2e",
                    "loglik_item_models_per_cpu_s", "loglik_item_models_per_cpu_s_e2e"):
            out[f"{key}_vs_lmeval"] = a[key] / b[key]
    if "auditkit_cache_hit" in raw:
        cold, hit = raw["auditkit_cold"], raw["auditkit_cache_hit"]
        out["second_run_speedup_run_audit"] = cold["seconds_run_audit"] / hit["seconds_run_audit"]
        out["second_run_speedup_run_audit_plus_analysis"] = (
            (cold["seconds_run_audit"] + cold["seconds_analyze"])
            / (hit["seconds_run_audit"] + hit["seconds_analyze"]))
        out["second_run_speedup_process"] = (raw["auditkit_cold_proc"]["wall_s"]
                                             / raw["auditkit_cache_hit_proc"]["wall_s"])
    return out


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--family", type=Path, default=REPO / "models" / "demo")
    p.add_argument("--selection", default="quick")
    p.add_argument("--approach", action="append", choices=APPROACHES, default=[],
                   help="repeatable; default: all three")
    p.add_argument("--model", action="append", default=[], help="auditkit's members (default all)")
    p.add_argument("--naive-model", action="append", default=[], help="default: every member")
    p.add_argument("--lmeval-model", action="append", default=[], help="default: every member")
    p.add_argument("--lmeval-batch-size", default="16")
    p.add_argument("--lmeval-venv", type=Path, default=BENCH / ".venv-lmeval")
    p.add_argument("--out", type=Path, default=BENCH / "out")
    p.add_argument("--device", default="cpu", help="cpu or cuda, for every approach")
    p.add_argument("--dtype", default="float32", help="for every approach")
    p.add_argument("--threads", type=int, default=0,
                   help="OMP_NUM_THREADS for every worker (default: torch's own choice)")
    p.add_argument("--keep", action="store_true", help="keep the temporary directory")
    p.add_argument("--resummarize", type=Path, default=None,
                   help="recompute the figures of an earlier family-*.json (no new runs)")
    return p.parse_args()


def resummarize(path: Path) -> None:
    """Figures, floors and agreement again from the raw measurements of an earlier run."""
    import ast

    from auditkit.audit import AuditOptions, select_probes
    from auditkit.family import load_family

    data = json.loads(path.read_text())
    raw = data["raw"]
    saved = raw["args"]
    args = argparse.Namespace(**{k: saved[k] for k in ("selection",)}, family=Path(saved["family"]),
                              **{k: ast.literal_eval(saved[k]) for k in
                                 ("model", "naive_model", "lmeval_model")})
    os.environ["AUDITKIT_PROBES"] = raw["probes_snapshot"]
    os.environ["AUDITKIT_CACHE_DIR"] = str(Path(raw["probes_snapshot"]).parent / "cache-warm")
    family = load_family(args.family)
    probes = select_probes(AuditOptions(family_dir=args.family, selection=args.selection))
    summary = summarize(args, raw, family, probes)
    path.write_text(json.dumps({**summary, "raw": raw}, indent=2, default=str))
    print(report.table(summary["figures"]))
    print(json.dumps({"floors": summary["floors"], "agreement": summary["agreement"]},
                     indent=1, default=str))


def main() -> None:
    args = parse_args()
    if args.resummarize:
        return resummarize(args.resummarize)
    approaches = args.approach or list(APPROACHES)
    from auditkit.audit import AuditOptions, select_probes
    from auditkit.family import load_family

    args.out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="family-", dir=args.out))
    raw: dict = {"machine": machine(), "args": {k: str(v) for k, v in vars(args).items()}}
    if args.threads:
        os.environ["OMP_NUM_THREADS"] = str(args.threads)
    raw["probes_snapshot"] = str(snapshot_probes(tmp))
    warm = prepare(args, tmp, raw)
    os.environ["AUDITKIT_CACHE_DIR"] = str(warm)
    family = load_family(args.family)
    probes = select_probes(AuditOptions(family_dir=args.family, selection=args.selection))
    if "auditkit" in approaches:
        run_auditkit(args, tmp, warm, raw)
    if "naive" in approaches:
        run_naive(args, tmp, warm, raw)
    if "lm-eval" in approaches:
        run_lmeval(args, tmp, warm, family, probes, raw)
    raw["machine"]["loadavg_end"] = os.getloadavg()
    summary = summarize(args, raw, family, probes)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    path = args.out / f"family-{stamp}.json"
    path.write_text(json.dumps({**summary, "raw": raw}, indent=2, default=str))
    print(report.table(summary["figures"]))
    print(json.dumps({"floors": summary["floors"], "agreement": summary["agreement"],
                      "peak": raw["peak"], "prep": raw["prep"], "machine": raw["machine"]},
                     indent=1, default=str))
    print(f"written: {path}")
    if not args.keep:
        shutil.rmtree(tmp / "cache-warm" / "gguf", ignore_errors=True)


if __name__ == "__main__":
    main()
