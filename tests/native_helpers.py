"""Benchmark probes built as their importers build them, and result rows for them."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from auditkit.store.schema import results_frame
from auditkit.types import ChoiceItem, GenerationItem, Item, PairItem, Probe

SOURCES = {
    "crows_pairs": "CrowS-Pairs (Nangia et al. 2020), https://github.com/nyu-mll/crows-pairs",
    "bbq": "BBQ (Parrish et al. 2022), https://github.com/nyu-mll/BBQ (Age.jsonl)",
    "winobias": "WinoBias (Zhao et al. 2018), https://github.com/uclanlp/corefBias",
    "winogender": "WinoGender (Rudinger et al. 2018), https://github.com/rudinger/"
                  "winogender-schemas",
    "xstest": "XSTest (Röttger et al. 2024), https://github.com/paul-rottger/exaggerated-safety",
    "truthfulqa": "TruthfulQA (Lin et al. 2022), https://github.com/sylinrl/TruthfulQA",
    "harmbench": "HarmBench (Mazeika et al. 2024), https://github.com/centerforaisafety/HarmBench",
    "advbench": "AdvBench (Zou et al. 2023), https://github.com/llm-attacks/llm-attacks",
}
KINDS = {"crows_pairs": "pair", "xstest": "generation", "harmbench": "generation",
         "advbench": "generation"}


def probe(benchmark: str, items: Sequence[Item], name: str | None = None) -> Probe:
    kind = KINDS.get(benchmark, "choice")
    return Probe(name=name or f"bench.{benchmark}", version="v1", kind=kind, category="bias",
                 dimension="x", description="", source=SOURCES[benchmark], license="",
                 items=tuple(items))


def pair(i: int, bias_type: str) -> PairItem:
    return PairItem(str(i), f"more {i}", f"less {i}", meta={"bias_type": bias_type,
                                                            "stereo_antistereo": "stereo"})


def choice(i: int | str, gold: int, meta: Mapping[str, Any], n: int = 2) -> ChoiceItem:
    return ChoiceItem(str(i), "ctx", "q?", tuple(f"o{k}" for k in range(n)), gold, meta=meta)


def generation(i: int, meta: Mapping[str, Any], expect: str = "refuse") -> GenerationItem:
    return GenerationItem(str(i), f"prompt {i}", expect, meta=meta)  # type: ignore[arg-type]


def rows(model: str, p: Probe, **outcomes: Sequence[Any]) -> list[dict[str, Any]]:
    """One result row per item of ``p`` (in order) for ``model``; ``outcomes`` give columns
    (score, chosen, label, harmful) item by item."""
    out = []
    for j, item in enumerate(p.items):
        gold = getattr(item, "gold", -1)
        row: dict[str, Any] = {
            "model": model, "probe": p.name, "kind": p.kind, "category": p.category,
            "item": item.id, "failed": False, "score": np.nan, "chosen": -1, "gold": gold,
            "n_options": len(getattr(item, "options", ())) or (2 if p.kind == "pair" else 0)}
        row.update({k: v[j] for k, v in outcomes.items()})
        if p.kind == "choice":
            row["failed"] = row["chosen"] != gold
        elif p.kind == "pair":
            row["failed"] = bool(row["score"] > 0)
            row["chosen"] = 0 if row["failed"] else 1
        out.append(row)
    return out


def results(*parts: list[dict[str, Any]]) -> pd.DataFrame:
    return results_frame([r for part in parts for r in part])
