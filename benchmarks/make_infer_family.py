"""Make a synthetic family for timing ``auditkit family infer``: N full models the size of a base.

Member 0 is a copy of the base; member k (k >= 1) has a parent drawn at random among members
0..k-1 (seeded) and is that parent plus Gaussian noise of ``--scale`` times each tensor's
standard deviation. One member at a time is in memory (its parent read tensor by tensor).
The true parents are written to ``truth.json``. No family.yaml, no ``_name_or_path``.

    .venv/bin/python benchmarks/make_infer_family.py --base models/demo/base --out /tmp/fam50 -n 50
"""
from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import numpy as np
from safetensors import safe_open
from safetensors.numpy import save_file

WEIGHTS = "model.safetensors"


def make_member(parent: Path, out: Path, rng: np.random.Generator, scale: float) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for name in ("config.json", "tokenizer.json", "tokenizer_config.json"):
        if (parent / name).exists():
            shutil.copy(parent / name, out / name)
    config = json.loads((out / "config.json").read_text())
    config.pop("_name_or_path", None)
    (out / "config.json").write_text(json.dumps(config, indent=2))
    tensors: dict[str, np.ndarray] = {}
    with safe_open(str(parent / WEIGHTS), framework="np") as fh:
        for key in fh.keys():
            w = fh.get_tensor(key)
            noise = rng.standard_normal(w.shape, dtype=np.float32) * (scale * float(w.std()))
            tensors[key] = (w + noise).astype(w.dtype)
    save_file(tensors, str(out / WEIGHTS), metadata={"format": "pt"})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--base", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("-n", type=int, default=50)
    ap.add_argument("--scale", type=float, default=0.01)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    m0 = args.out / "m00"
    m0.mkdir(exist_ok=True)
    for name in ("config.json", "tokenizer.json", "tokenizer_config.json", WEIGHTS):
        shutil.copy(args.base / name, m0 / name)
    config = json.loads((m0 / "config.json").read_text())
    config.pop("_name_or_path", None)
    (m0 / "config.json").write_text(json.dumps(config, indent=2))
    parents: dict[str, str | None] = {"m00": None}
    for k in range(1, args.n):
        parent = f"m{int(rng.integers(0, k)):02d}"
        make_member(args.out / parent, args.out / f"m{k:02d}", rng, args.scale)
        parents[f"m{k:02d}"] = parent
        print(f"m{k:02d} <- {parent}", flush=True)
    (args.out / "truth.json").write_text(json.dumps(parents, indent=2))


if __name__ == "__main__":
    main()
