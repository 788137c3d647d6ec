"""Fingerprints: content-addressed, cached by (path, size, mtime), adapters cover their base."""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from family_helpers import fake_family, fake_gguf

from auditkit.family import files_hashed, load_family
from auditkit.family.fingerprint import CACHE_SCHEMA
from auditkit.paths import cache_dir


def _fps(root: Path) -> dict[str, str]:
    return {m.name: m.fingerprint for m in load_family(root).models}


def test_fingerprint_is_sha256_over_names_and_file_hashes(tmp_path: Path) -> None:
    fake_gguf(tmp_path / "q.gguf")
    file_hash = hashlib.sha256((tmp_path / "q.gguf").read_bytes()).hexdigest()
    expected = hashlib.sha256(f"model.gguf\0{file_hash}\n".encode()).hexdigest()
    node = load_family(tmp_path).get("q.gguf")
    assert node.fingerprint == expected and node.short_fingerprint == expected[:12]


def test_stable_distinct_and_independent_of_directory_names(tmp_path: Path) -> None:
    first = _fps(fake_family(tmp_path / "one"))
    assert _fps(tmp_path / "one") == first
    assert len(set(first.values())) == 4
    os.rename(tmp_path / "one", tmp_path / "two")
    (tmp_path / "two" / "base").rename(tmp_path / "two" / "renamed")
    (tmp_path / "two" / "family.yaml").write_text("models:\n  base: {path: renamed}\n")
    assert _fps(tmp_path / "two") == first


def test_one_weight_byte_changes_the_fingerprint_and_its_adapters(tmp_path: Path) -> None:
    fake_family(tmp_path)
    before = _fps(tmp_path)
    weights = tmp_path / "ft" / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 0x01
    weights.write_bytes(bytes(data))
    after = _fps(tmp_path)
    changed = {name for name in before if before[name] != after[name]}
    assert changed == {"ft", "lora-b"}  # lora-b's base is ft; lora-a's is base


def test_config_change_changes_the_fingerprint(tmp_path: Path) -> None:
    fake_family(tmp_path)
    before = _fps(tmp_path)
    (tmp_path / "lora-a" / "adapter_config.json").write_text(
        json.dumps({"peft_type": "LORA", "r": 2, "lora_alpha": 99, "base_model_name_or_path": "base"}))
    after = _fps(tmp_path)
    assert {n for n in before if before[n] != after[n]} == {"lora-a"}


def test_second_load_does_not_rehash(tmp_path: Path) -> None:
    fake_family(tmp_path)
    fake_gguf(tmp_path / "q.gguf")
    start = files_hashed()
    first = _fps(tmp_path)
    # base: config, safetensors, tokenizer_config; ft: config, safetensors; adapters: 2 each;
    # the gguf file: 1.
    assert files_hashed() - start == 3 + 2 + 2 + 2 + 1
    entries = json.loads((cache_dir() / "fingerprints.json").read_text())["files"]
    assert str(tmp_path / "q.gguf") in entries
    assert _fps(tmp_path) == first
    assert files_hashed() - start == 10
    os.utime(tmp_path / "q.gguf", ns=(1, 1))  # same bytes, new mtime: rehashed, same print
    assert _fps(tmp_path) == first
    assert files_hashed() - start == 11


def test_corrupt_cache_file_is_ignored(tmp_path: Path) -> None:
    fake_family(tmp_path)
    first = _fps(tmp_path)
    (cache_dir() / "fingerprints.json").write_text("{broken")
    assert _fps(tmp_path) == first
    assert json.loads((cache_dir() / "fingerprints.json").read_text())["schema"] == CACHE_SCHEMA


def test_unwritable_cache_only_costs_a_rehash(tmp_path: Path, monkeypatch) -> None:
    fake_family(tmp_path / "fam")
    (tmp_path / "file").write_text("")
    monkeypatch.setenv("AUDITKIT_CACHE_DIR", str(tmp_path / "file" / "cache"))  # under a file
    start = files_hashed()
    first = _fps(tmp_path / "fam")
    assert _fps(tmp_path / "fam") == first
    assert files_hashed() - start == 2 * 9
