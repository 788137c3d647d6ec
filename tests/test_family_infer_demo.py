"""The demo family's lineage recovered from its weights alone (where models/demo is built).

A copy without family.yaml, with the adapters' base_model_name_or_path and the configs'
_name_or_path blanked and the build records removed; the weight files are linked, not copied
(models/demo itself is never touched). Recorded figure: docs/benchmarks in benchmarks/README.md.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from auditkit.family.infer import infer_members
from auditkit.paths import REPO_DIR

DEMO = REPO_DIR / "models" / "demo"
TRUTH = {"base": None, "support": "base", "medical": "base", "counter-stereotype": "base",
         "safety": "base", "safety-comply": "safety", "safety-cooking": "safety"}

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not (DEMO / "base" / "model.safetensors").exists(),
                                 reason="models/demo is not built (make demo)")]


def blind_copy(dst: Path) -> Path:
    for name in TRUTH:
        (dst / name).mkdir(parents=True)
        for src in (DEMO / name).iterdir():
            if src.name.endswith(".safetensors") or src.name.startswith("tokenizer"):
                os.symlink(src.resolve(), dst / name / src.name)
        for config, key in (("config.json", "_name_or_path"),
                            ("adapter_config.json", "base_model_name_or_path")):
            if (DEMO / name / config).exists():
                data = json.loads((DEMO / name / config).read_text())
                (dst / name / config).write_text(json.dumps({**data, key: None}))
    return dst


def test_demo_lineage_is_recovered_from_weights_alone(tmp_path: Path) -> None:
    root = blind_copy(tmp_path / "demo")
    members = [(n, root / n, "full" if (root / n / "config.json").exists() else "lora")
               for n in sorted(TRUTH)]
    inference = infer_members(members, n_boot=100)  # type: ignore[arg-type]
    assert inference.parents == TRUTH
    confidence = {e.child: e.confidence for t in inference.trees for e in t.edges}
    assert min(confidence.values()) >= 0.8, confidence
