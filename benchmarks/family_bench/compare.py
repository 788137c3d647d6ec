"""Outcome agreement: auditkit's results against the naive loop's rows and lm-eval's samples."""
from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from auditkit.probes.kinds import get_kind
from auditkit.types import Probe

KEY = ["model", "probe", "item"]
SAMPLES = re.compile(r"^samples_(.+)_(\d{4}-\d\d-\d\dT[^/]*)\.jsonl$")


def read_auditkit(path: Path) -> pd.DataFrame:
    df = pd.read_parquet(path)
    return df[KEY + ["kind", "failed", "score", "chosen", "output"]]


def read_naive(path: Path) -> pd.DataFrame:
    return pd.DataFrame([json.loads(line) for line in path.read_text().splitlines()])


def _as_result(value: object) -> object:
    """lm-eval logs (logprob, is_greedy) as a list, sometimes of strings."""
    if isinstance(value, list) and len(value) == 2:
        return float(value[0]), value[1] in (True, "True", "true")
    return value


def read_lmeval(model: str, out_dir: Path, tasks: dict[str, str],
                probes: Sequence[Probe]) -> pd.DataFrame:
    """One row per item from lm-eval's ``samples_*.jsonl``, the outcome computed by auditkit's
    own outcome function from lm-eval's log-likelihoods or reply."""
    by_name = {p.name: p for p in probes}
    rows = []
    for path in sorted(out_dir.rglob("samples_*.jsonl")):
        match = SAMPLES.match(path.name)
        if not match or match.group(1) not in tasks:
            continue
        probe = by_name[tasks[match.group(1)]]
        items = {item.id: item for item in probe.items}
        kind = get_kind(probe.kind)
        for line in path.read_text().splitlines():
            sample = json.loads(line)
            item = items[sample["doc"]["id"]]
            resps = sample["filtered_resps"]
            results = [_as_result(r) for r in resps] if probe.kind != "generation" else (
                [resps[0] if isinstance(resps, list) else resps])
            rows.append({"model": model, "probe": probe.name, "item": item.id,
                         **kind.outcome(probe, item, results)})
    return pd.DataFrame(rows)


def agreement(ref: pd.DataFrame, other: pd.DataFrame, *, max_examples: int = 8) -> dict:
    """How ``other``'s outcomes agree with ``ref``'s on the (model, probe, item) both have."""
    if other.empty:
        return {"compared": 0}
    both = ref.merge(other, on=KEY, suffixes=("", "_o"))
    ll = both[both["kind"] != "generation"]
    gen = both[both["kind"] == "generation"]
    diff = (ll["score"] - ll["score_o"]).abs()
    failed_mismatch = both[both["failed"] != both["failed_o"]]
    out = {
        "compared": len(both), "compared_loglik": len(ll), "compared_generation": len(gen),
        "failed_agree": int((both["failed"] == both["failed_o"]).sum()),
        "loglik_failed_agree": int((ll["failed"] == ll["failed_o"]).sum()),
        "loglik_chosen_agree": int((ll["chosen"] == ll["chosen_o"]).sum()),
        "loglik_max_abs_score_diff": float(diff.max()) if len(ll) else math.nan,
        "loglik_median_abs_score_diff": float(diff.median()) if len(ll) else math.nan,
        "generation_failed_agree": int((gen["failed"] == gen["failed_o"]).sum()),
        "generation_same_text": int((gen["output"] == gen["output_o"]).sum()),
        "failed_mismatches": [
            {"model": r.model, "probe": r.probe, "item": r.item, "score": r.score,
             "score_other": r.score_o, "output": r.output[:80], "output_other": r.output_o[:80]}
            for r in failed_mismatch.head(max_examples).itertuples()],
    }
    return out
