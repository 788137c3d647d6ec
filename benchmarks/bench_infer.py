"""Time and peak memory of the lineage inference on a synthetic family (make_infer_family.py).

    .venv/bin/python benchmarks/bench_infer.py /tmp/fam50 --json /tmp/bench_infer.json

Runs :func:`auditkit.family.infer.infer_members` on every ``m*`` directory (full models) and
compares the parents with ``truth.json``. Discovery and fingerprinting (what ``family infer``
does first) are not included; one thread (OMP_NUM_THREADS=1 is set before numpy loads).
"""
from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import resource  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

from auditkit.family.infer import infer_members  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("family", type=Path)
    ap.add_argument("--root", default=None)
    ap.add_argument("--bootstrap", type=int, default=200)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    names = sorted(p.name for p in args.family.iterdir() if p.is_dir())
    members = [(n, args.family / n, "full") for n in names]
    load0 = os.getloadavg()
    t0, c0 = time.perf_counter(), time.process_time()
    inference = infer_members(members, root=args.root, n_boot=args.bootstrap)  # type: ignore[arg-type]
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    truth = json.loads((args.family / "truth.json").read_text())
    parents = inference.parents
    right = sum(parents[n] == truth[n] for n in names if truth[n] is not None)
    undirected = sum({parents[n], n} == {truth[n], n} or parents.get(truth[n] or "") == n
                     for n in names if truth[n] is not None)
    out = {"members": len(names), "wall_s": round(wall, 1), "cpu_s": round(cpu, 1),
           "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
           "edges": len(names) - 1, "edges_right": right, "edges_right_undirected": undirected,
           "loadavg_before": load0, "loadavg_after": os.getloadavg(), "root": args.root,
           "bootstrap": args.bootstrap,
           "min_confidence": min(e.confidence for t in inference.trees for e in t.edges)}
    print(json.dumps(out, indent=2))
    if args.json:
        args.json.write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
