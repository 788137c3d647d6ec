"""Fault injection, models: a model rewritten in every window of a run, a family that cannot be
audited, an adapter whose base lies outside the family. Every case ends in results identical
to a clean run's, or in exit code 2 (AuditError) with a message naming the file; never a
traceback, never an outcome filed under a fingerprint that does not describe its bytes."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import fault_helpers as fh
import pytest
from family_helpers import fake_adapter, fake_full
from typer.testing import CliRunner

import auditkit.family.fingerprint as fingerprint_module
from auditkit.audit import AuditOptions, run_audit
from auditkit.cli import app
from auditkit.errors import AuditError
from auditkit.family import load_family
from auditkit.score.settings import BackendSettings
from auditkit.store.cache import ResultCache, default_cache_path

_run = fh.run_content


_content_backend = fh.content_backend      # registered for this module


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> fh.Pristine:
    built = fh.build_pristine(tmp_path_factory.mktemp("pristine"))
    assert not fh.same_results(built.orig, built.new)     # the bytes change the outcomes
    return built


@pytest.fixture
def fam(pristine, tmp_path) -> Path:
    return fh.copy_family(pristine.family, tmp_path / "fam")


def _cli(*args: str):
    return CliRunner().invoke(app, list(args))


def _names(result) -> str:
    assert "Traceback" not in result.output
    return result.stderr


def _cache_holds_only_true_outcomes(pristine: fh.Pristine, fam: Path, tmp_path: Path) -> None:
    """After a fault: the rewritten model's outcomes are those of its new bytes, and with the
    original bytes restored, those of the original ones (nothing was filed under the wrong
    fingerprint)."""
    assert fh.same_results(_run(fam, pristine.probes, tmp_path / "new").results, pristine.new)
    original = pristine.family / "lora-a" / "adapter_model.safetensors"
    shutil.copyfile(original, fam / "lora-a" / "adapter_model.safetensors")
    assert fh.same_results(_run(fam, pristine.probes, tmp_path / "orig").results, pristine.orig)


# ------------------------------------------------------------------ a rewrite in each window

def test_rewrite_while_a_file_is_hashed_is_caught(pristine, fam, tmp_path, monkeypatch):
    target = fam / "lora-a" / "adapter_model.safetensors"
    real = fingerprint_module.sha256_file

    def hash_then_rewrite(path):
        digest = real(path)
        if path == target and not getattr(hash_then_rewrite, "done", False):
            hash_then_rewrite.done = True
            fh.rewrite(fam / "lora-a")                  # a save lands while it is hashed
        return digest

    monkeypatch.setattr(fingerprint_module, "sha256_file", hash_then_rewrite)
    with pytest.raises(AuditError, match="changed while it was being fingerprinted") as err:
        _run(fam, pristine.probes, tmp_path / "a")
    assert err.value.problems[0].path == str(target)
    monkeypatch.undo()
    _cache_holds_only_true_outcomes(pristine, fam, tmp_path)


def test_rewrite_of_a_fingerprinted_model_before_discovery_ends(pristine, fam, tmp_path,
                                                                monkeypatch):
    order = load_family(fam).names
    assert order.index("lora-b") < order.index("lora-a")   # lora-b is hashed first
    monkeypatch.setenv("AUDITKIT_CACHE_DIR", str(tmp_path / "c"))   # no hash cached: rehash
    real = fingerprint_module.sha256_file

    def rewrite_lora_b(path):
        if path.parent.name == "lora-a":
            fh.rewrite(fam / "lora-b", seed=11)          # lora-b was fingerprinted already
        return real(path)

    monkeypatch.setattr(fingerprint_module, "sha256_file", rewrite_lora_b)
    with pytest.raises(AuditError, match="'lora-b' was modified after it was fingerprinted "
                       r"\(found before loading it\)") as err:
        _run(fam, pristine.probes, tmp_path / "a")
    assert err.value.problems[0].path == str(fam / "lora-b")
    with ResultCache(default_cache_path()) as cache:
        assert cache.count() == 2 * fh.N_PAIRS + 2 * fh.N_CHOICES + 2 * fh.N_GEN  # base group


def test_rewrite_between_discovery_and_loading_exits_2(pristine, fam, tmp_path, monkeypatch):
    # the CLI runner is no terminal: the run's progress comes as lines
    from auditkit.cli.progress import LineRunProgress as RunProgress

    shown = RunProgress.family_found

    def show_then_rewrite(self, family):
        shown(self, family)                              # the tree is printed ...
        fh.rewrite(fam / "lora-a")                       # ... and a save lands

    monkeypatch.setattr(RunProgress, "family_found", show_then_rewrite)
    result = _cli("run", "--family", str(fam), "--probes", str(pristine.probes),
                  "--backend", "content", "--out", str(tmp_path / "a"))
    assert result.exit_code == 2
    assert _names(result).startswith(f"error: {fam / 'lora-a'}: the model 'lora-a' was "
                                     "modified after it was fingerprinted (found before "
                                     "loading it)")
    assert not (tmp_path / "a").exists()
    monkeypatch.undo()
    _cache_holds_only_true_outcomes(pristine, fam, tmp_path)


@pytest.mark.parametrize("when", ["while loading it", "while scoring it"])
def test_rewrite_during_loading_or_scoring_is_caught(pristine, fam, tmp_path, monkeypatch,
                                                     when):
    opened = fh.ContentOpener.open

    def open_then_rewrite(self, group):
        with opened(self, group) as backend:             # its bytes are read ...
            if "lora-a" in group.scored and when == "while loading it":
                fh.rewrite(fam / "lora-a")               # ... then it is rewritten
            elif "lora-a" in group.scored:
                real = backend.loglikelihood
                backend.loglikelihood = lambda r, **kw: (fh.rewrite(fam / "lora-a"),
                                                         real(r, **kw))[1]
            yield backend

    monkeypatch.setattr(fh.ContentOpener, "open", __import__("contextlib").contextmanager(
        open_then_rewrite))
    with pytest.raises(AuditError, match=f"'lora-a' was modified after it was fingerprinted "
                       rf"\(found {when}\)"):
        _run(fam, pristine.probes, tmp_path / "a")
    monkeypatch.undo()
    _cache_holds_only_true_outcomes(pristine, fam, tmp_path)


def test_rewrite_between_chunks_stores_nothing_after_it(pristine, fam, tmp_path, monkeypatch):
    put_many = ResultCache.put_many
    fingerprint = load_family(fam).get("lora-a").fingerprint
    commits = []

    def put_then_rewrite(self, fp, *args):
        put_many(self, fp, *args)
        commits.append(fp)
        if commits.count(fingerprint) == 1 and fp == fingerprint:
            fh.rewrite(fam / "lora-a", seed=12)          # between this chunk and the next

    monkeypatch.setattr(ResultCache, "put_many", put_then_rewrite)
    with pytest.raises(AuditError, match=r"'lora-a' was modified .*\(found while scoring it\)"):
        _run(fam, pristine.probes, tmp_path / "a")
    assert commits.count(fingerprint) == 1               # no chunk stored after the rewrite
    monkeypatch.undo()
    fh.rewrite(fam / "lora-a")                           # the bytes of the "new" reference
    _cache_holds_only_true_outcomes(pristine, fam, tmp_path)


def test_rewrite_keeping_size_and_mtime_is_still_caught(pristine, fam, tmp_path, monkeypatch):
    import os

    weights = fam / "lora-a" / "adapter_model.safetensors"
    family = load_family(fam)
    before = weights.stat()
    fh.rewrite(fam / "lora-a")
    os.utime(weights, ns=(before.st_atime_ns, before.st_mtime_ns))   # as `cp -p` or rsync do
    assert weights.stat().st_size == before.st_size
    with pytest.raises(AuditError, match="'lora-a' was modified .*before loading it"):
        run_audit(AuditOptions(family_dir=fam, probes_dir=pristine.probes,
                               out_dir=tmp_path / "a", backend=BackendSettings("content")),
                  family=family)
    _cache_holds_only_true_outcomes(pristine, fam, tmp_path)   # rediscovery rehashes it


# ------------------------------------------------------------------ refused before scoring

def _no_scoring(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a model was loaded")
    monkeypatch.setattr(fh.ContentOpener, "open", refuse)


def test_empty_family_directory_exits_2(tmp_path, pristine):
    (tmp_path / "empty").mkdir()
    shown = _cli("family", "show", str(tmp_path / "empty"))
    assert shown.exit_code == 2
    assert _names(shown).startswith(f"error: {tmp_path / 'empty'}: no models found")
    run = _cli("run", "--family", str(tmp_path / "empty"), "--probes", str(pristine.probes),
               "--backend", "content", "--out", str(tmp_path / "run"))
    assert run.exit_code == 2 and "no models found" in _names(run)
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("where", ["a file", "below a file"])
def test_out_path_is_checked_before_anything_costly(pristine, fam, tmp_path, monkeypatch,
                                                    where):
    _no_scoring(monkeypatch)
    (tmp_path / "taken").write_text("x")
    out = tmp_path / "taken" if where == "a file" else tmp_path / "taken" / "run"
    result = _cli("run", "--family", str(fam), "--probes", str(pristine.probes), "--backend",
                  "content", "--out", str(out))
    assert result.exit_code == 2
    assert _names(result).startswith(f"error: {tmp_path / 'taken'} --out: ")
    assert not default_cache_path().exists()             # refused before the cache was opened


def test_member_without_tokenizer_is_refused_before_scoring(pristine, fam, tmp_path,
                                                            monkeypatch):
    _no_scoring(monkeypatch)
    shutil.rmtree(fam / "ft")
    fake_full(fam / "ft", seed=2, tokenizer=False)
    (fam / "base" / "tokenizer_config.json").unlink()
    result = _cli("run", "--family", str(fam), "--probes", str(pristine.probes), "--backend",
                  "content", "--out", str(tmp_path / "a"))
    assert result.exit_code == 2
    errors = _names(result)
    assert f"error: {fam / 'base'}: model 'base' cannot be loaded: no tokenizer" in errors
    assert f"error: {fam / 'ft'}: model 'ft' cannot be loaded: no tokenizer" in errors


def test_unknown_judge_is_refused_before_scoring(pristine, fam, tmp_path, monkeypatch):
    _no_scoring(monkeypatch)
    result = _cli("run", "--family", str(fam), "--probes", str(pristine.probes), "--backend",
                  "content", "--out", str(tmp_path / "a"), "--judge", "nope")
    assert result.exit_code == 2 and "unknown judge 'nope'" in _names(result)


# ------------------------------------------------------------------ bases outside the family

def _outside_family(tmp_path: Path, base_ref: str) -> Path:
    fake_full(tmp_path / "elsewhere" / "base", seed=0)
    fam = tmp_path / "fam"
    fake_full(fam / "m", seed=4)
    fake_adapter(fam / "adapter", base_ref, seed=1)
    return fam


def test_adapter_with_a_base_outside_the_family_is_scored(pristine, tmp_path):
    fam = _outside_family(tmp_path, str(tmp_path / "elsewhere" / "base"))
    node = load_family(fam).get("adapter")
    assert node.parent is None and node.base_path == tmp_path / "elsewhere" / "base"
    assert "it is loaded from" in node.warnings[0]
    run = _run(fam, pristine.probes, tmp_path / "run")
    assert set(run.results["model"]) == {"adapter", "m"}
    assert run.stats.groups_loaded == ["adapter", "m"]
    # the adapter's fingerprint covers its base: a changed base is a new model
    fake_full(tmp_path / "elsewhere" / "base", seed=5)
    assert load_family(fam).get("adapter").fingerprint != node.fingerprint
    again = _run(fam, pristine.probes, tmp_path / "run2")
    assert again.stats.scored == len(again.results) // 2 and again.stats.groups_loaded == [
        "adapter"]


def test_adapter_whose_base_cannot_be_found_is_refused_with_the_reason(pristine, tmp_path,
                                                                       monkeypatch):
    fam = _outside_family(tmp_path, "HuggingFaceTB/SmolLM2-135M")
    shown = _cli("family", "show", "--json", str(fam))
    warnings = json.loads(shown.stdout)["models"][0]["warnings"]
    assert shown.exit_code == 0 and "nor a local directory" in warnings[0]
    _no_scoring(monkeypatch)
    result = _cli("run", "--family", str(fam), "--probes", str(pristine.probes), "--backend",
                  "content", "--out", str(tmp_path / "run"))
    assert result.exit_code == 2
    assert _names(result).startswith(
        f"error: {fam / 'adapter' / 'adapter_config.json'} base_model_name_or_path: adapter "
        "'adapter' cannot be loaded: it names base 'HuggingFaceTB/SmolLM2-135M'")
    assert "leave it out with --model" in result.stderr


def test_external_base_rewritten_after_discovery_is_caught(pristine, tmp_path):
    fam = _outside_family(tmp_path, str(tmp_path / "elsewhere" / "base"))
    family = load_family(fam)
    fake_full(tmp_path / "elsewhere" / "base", seed=5)     # the base outside changes
    with pytest.raises(AuditError, match="'adapter' was modified after it was fingerprinted "
                       r"\(found before loading it\)"):
        run_audit(AuditOptions(family_dir=fam, probes_dir=pristine.probes,
                               out_dir=tmp_path / "a", backend=BackendSettings("content")),
                  family=family)


def test_only_the_models_a_run_loads_must_be_loadable(pristine, fam, tmp_path):
    (fam / "base" / "tokenizer_config.json").unlink()      # ft has its own tokenizer
    run = _run(fam, pristine.probes, tmp_path / "a", models=("ft",))
    assert set(run.results["model"]) == {"ft"}
    with pytest.raises(AuditError, match="model 'base' cannot be loaded: no tokenizer"):
        _run(fam, pristine.probes, tmp_path / "b", models=("lora-a",))   # loaded on base
