"""The lineage check's cache (auditkit.family.infer_cache): keyed by what the inference reads."""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

import auditkit.family.infer as infer
from auditkit.family.infer import Inference, InferredEdge, InferredTree, check_lineage
from auditkit.family.infer_cache import cache_key, cached, from_json, to_json
from auditkit.types import Family, ModelNode

INFERENCE = Inference(
    (InferredTree("llama, tokenizer 0123abcd", ("a", "b", "c"), ("a",),
                  (InferredEdge("a", "b", 0.012345678901234567, 0.965, "weights"),
                   InferredEdge("b", "c", 1 / 3, 1.0, "adapter delta"))),),
    (("g", "gguf weights are not compared"),))


def _family(tmp_path: Path, **fingerprints: str) -> Family:
    nodes = tuple(ModelNode(name, tmp_path / name, "gguf", None, "none", fp)
                  for name, fp in fingerprints.items())
    return Family(tmp_path, "f", nodes)


def test_json_round_trip_is_exact() -> None:
    assert from_json(json.loads(json.dumps(to_json(INFERENCE)))) == INFERENCE


def test_the_key_changes_with_every_input(tmp_path: Path) -> None:
    fam = _family(tmp_path, a="1" * 64, b="2" * 64)
    key = cache_key(fam, root=None, n_boot=200, seed=0, strict=False)
    changed_fp = _family(tmp_path, a="1" * 64, b="3" * 64)
    renamed = _family(tmp_path, a="1" * 64, c="2" * 64)
    added = _family(tmp_path, a="1" * 64, b="2" * 64, c="4" * 64)
    moved = dataclasses.replace(fam, models=(fam.models[0], dataclasses.replace(
        fam.models[1], path=tmp_path / "elsewhere")))
    others = [cache_key(f, root=None, n_boot=200, seed=0, strict=False)
              for f in (changed_fp, renamed, added, moved)]
    others += [cache_key(fam, root="a", n_boot=200, seed=0, strict=False),
               cache_key(fam, root=None, n_boot=100, seed=0, strict=False),
               cache_key(fam, root=None, n_boot=200, seed=1, strict=False),
               cache_key(fam, root=None, n_boot=200, seed=0, strict=True)]
    assert key is not None and len({key, *others}) == 1 + len(others)
    assert cache_key(fam, root=None, n_boot=200, seed=0, strict=False) == key
    assert cache_key(_family(tmp_path, a="1" * 64, b=""), root=None, n_boot=200, seed=0,
                     strict=False) is None


def test_cached_computes_once_and_recovers_from_a_bad_file(tmp_path: Path) -> None:
    calls: list[int] = []

    def compute() -> Inference:
        calls.append(1)
        return INFERENCE

    assert cached(tmp_path, "k", compute) == INFERENCE
    assert cached(tmp_path, "k", compute) == INFERENCE
    assert len(calls) == 1
    (tmp_path / "k.json").write_text("{not json")
    assert cached(tmp_path, "k", compute) == INFERENCE and len(calls) == 2
    assert from_json(json.loads((tmp_path / "k.json").read_text())) == INFERENCE   # rewritten
    assert cached(tmp_path, None, compute) == INFERENCE and len(calls) == 3        # no key


def test_check_lineage_reads_the_cache_while_the_members_are_unchanged(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[Family] = []
    real = infer.infer_family

    def counting(family: Family, **kwargs: object) -> Inference:
        calls.append(family)
        return real(family, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(infer, "infer_family", counting)
    fam = _family(tmp_path, a="1" * 64, b="2" * 64)
    first = check_lineage(fam, cache=tmp_path / "lineage")
    assert check_lineage(fam, cache=tmp_path / "lineage") == first and len(calls) == 1
    assert first.inference.skipped and first.warnings     # gguf members: skipped, said once
    check_lineage(_family(tmp_path, a="1" * 64, b="5" * 64), cache=tmp_path / "lineage")
    assert len(calls) == 2
    check_lineage(fam)                                     # no cache given: computed
    assert len(calls) == 3
