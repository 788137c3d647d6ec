"""Shared fixtures: every test gets its own auditkit cache directory and an empty Hugging Face
cache."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # so tests can `import tiny`


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUDITKIT_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
    # hub ids resolve in an empty Hugging Face cache, not the developer's (auditkit.family.hub)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path_factory.mktemp("hf-hub-cache")))
