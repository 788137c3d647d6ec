#!/usr/bin/env bash
# `make wheel-check`: build the wheel, install it in a clean venv (torch pinned to the local CPU
# build), then from a folder outside the checkout list the built-in battery and audit a tiny
# family of two random 2-layer models (tests/tiny.py) on two of its probes.
# Usage: tests/wheel_check.sh BUILD_PYTHON [VENV_PYTHON] [TORCH_SPEC]
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
build_py=${1:?usage: wheel_check.sh BUILD_PYTHON [VENV_PYTHON] [TORCH_SPEC]}
venv_py=${2:-python3}
torch_spec=${3:-torch==2.13.0}
work=$(mktemp -d "${TMPDIR:-/tmp}/auditkit-wheel-check.XXXXXX")
trap 'rm -rf "$work"' EXIT
step() { printf '%s wheel-check: %s\n' "$(date -u +%H:%M:%S)" "$*"; }
# a step's output goes to a log, shown only when the step fails
quiet() { "$@" > "$work/step.log" 2>&1 || { cat "$work/step.log"; echo "wheel-check: failed: $*" >&2; exit 1; }; }

step "building the wheel"
(cd "$repo" && quiet "$build_py" -m pip wheel -q --no-deps -w "$work/dist" .)
wheel=$(ls "$work"/dist/auditkit-*.whl)
n=$("$build_py" -c 'import sys, zipfile
print(sum(n.startswith("auditkit/_battery/") and n.endswith(".yaml")
          for n in zipfile.ZipFile(sys.argv[1]).namelist()))' "$wheel")
[ "$n" -eq "$(find "$repo/probes" -name '*.yaml' | wc -l)" ] \
    || { echo "wheel-check: the wheel holds $n battery files, probes/ more" >&2; exit 1; }
step "the wheel holds the battery ($n files); installing it in a clean venv"
quiet "$venv_py" -m venv "$work/venv"
quiet "$work/venv/bin/pip" install -q --no-compile "$torch_spec" "$wheel"

mkdir "$work/elsewhere"
cd "$work/elsewhere"                       # nothing of the checkout is importable from here
export AUDITKIT_CACHE_DIR="$work/cache"
unset AUDITKIT_PROBES
ak="$work/venv/bin/auditkit"
battery=$("$work/venv/bin/python" -c 'from auditkit.paths import builtin_probes_dir as b; print(b())')
case "$battery" in "$work/venv/"*) ;; *) echo "wheel-check: battery found at $battery" >&2; exit 1;; esac
step "auditkit probes list (battery: $battery)"
"$ak" probes list > probes.txt
grep -q '^bias.gender.pairs ' probes.txt && grep -q '^safety.harmful ' probes.txt \
    || { cat probes.txt; echo "wheel-check: probes list lacks the battery" >&2; exit 1; }

step "building a tiny family"
PYTHONPATH="$repo/tests" "$work/venv/bin/python" - family > tiny.log 2>&1 <<'PY' || { cat tiny.log; exit 1; }
import sys
from pathlib import Path

from tiny import make_full_model

root = Path(sys.argv[1])
make_full_model(root / "base", seed=0)
make_full_model(root / "tuned", seed=1, name_or_path="base")
PY
step "auditkit run on the tiny family"
"$ak" run --family family --quick --probe bias.gender.pairs --probe safety.harmful --out run \
    < /dev/null > run.log 2>&1 || { cat run.log; exit 1; }
for f in results.parquet manifest.json report.html report.md summary.json; do
    [ -s "run/$f" ] || { cat run.log; echo "wheel-check: run/$f missing" >&2; exit 1; }
done
"$work/venv/bin/python" - <<'PY'
import json

import pandas as pd

results = pd.read_parquet("run/results.parquet")
manifest = json.load(open("run/manifest.json"))
assert sorted(results["model"].unique()) == ["base", "tuned"], results["model"].unique()
assert sorted(results["probe"].unique()) == ["bias.gender.pairs", "safety.harmful"]
assert len(results) == 2 * (16 + 30), len(results)
assert manifest["probes_path"] is None
print(f"wheel-check: {len(results)} results for {results['model'].nunique()} models")
PY
step "passed"
