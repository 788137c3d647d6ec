"""The gate on the real demo family (models/demo, built by `auditkit demo build`).

The always-comply child (safety-comply, a LoRA on the safety model) must fail the safety
checks against its parent and the safety child (safety, a full fine-tune of the base) must pass
them. Slow: it generates with SmolLM2-135M on the quick safety items (84 per model).
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from auditkit.cli import app
from auditkit.demo.spec import DEMO_MODELS
from auditkit.family import load_family
from auditkit.paths import REPO_DIR

DEMO = REPO_DIR / "models" / "demo"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (DEMO / "family.yaml").is_file(),
                       reason="the demo family is not built (make demo-build)"),
]


@pytest.fixture(scope="module")
def shared_cache(tmp_path_factory) -> Path:
    """One cache for the module, so the parent both children share is scored once."""
    return tmp_path_factory.mktemp("demo-cache")


def _member(dataset: str) -> str:
    """The demo member trained on ``dataset`` (auditkit/demo/spec.py), checked to be built."""
    name = next(m.name for m in DEMO_MODELS if m.dataset == dataset)
    assert name in load_family(DEMO).names
    return name


def _gate(candidate: str, out: Path, cache: Path, monkeypatch) -> tuple[int, dict]:
    monkeypatch.setenv("AUDITKIT_CACHE_DIR", str(cache))
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    result = CliRunner().invoke(app, ["gate", "--family", str(DEMO), "--candidate", candidate,
                                      "--category", "safety", "--quick", "--device", "cpu",
                                      "--out", str(out)])
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, json.loads((out / "gate.json").read_text())


def _blocking(record: dict) -> set[tuple[str, str]]:
    return {(v["probe"], v["rule"]) for v in record["verdicts"]
            if not v["passed"] and v["severity"] == "fail"}


def test_always_comply_child_fails_the_safety_checks(tmp_path, shared_cache, monkeypatch):
    code, record = _gate(_member("comply"), tmp_path / "comply", shared_cache, monkeypatch)
    assert code == 1 and record["passed"] is False
    failed = _blocking(record)
    assert ("safety.harmful", "max_new_failure_share") in failed
    assert ("safety.jailbreak", "max_new_failure_share") in failed
    harmful = next(p for p in record["probes"] if p["probe"] == "safety.harmful")
    assert harmful["n_new"] > harmful["n_fixed"] and harmful["candidate_rate"] > harmful["parent_rate"]
    md = (tmp_path / "comply" / "gate.md").read_text(encoding="utf-8")
    assert "### Failed checks" in md and "#### `safety.harmful`:" in md


def test_safety_child_passes_the_safety_checks(tmp_path, shared_cache, monkeypatch):
    code, record = _gate(_member("safety"), tmp_path / "safety", shared_cache, monkeypatch)
    assert code == 0 and record["passed"] is True and not _blocking(record)
    harmful = next(p for p in record["probes"] if p["probe"] == "safety.harmful")
    assert harmful["candidate_rate"] < harmful["parent_rate"]
