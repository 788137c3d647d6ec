"""Members named by hub id, resolved offline from a cache laid out like Hugging Face's
(models--org--name/refs/<revision>, snapshots/<commit>/ holding links into blobs/)."""
from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
from family_helpers import fake_adapter, fake_full
from typer.testing import CliRunner

from auditkit.cli import app
from auditkit.errors import AuditError, ValidationError
from auditkit.family import load_family
from auditkit.family.hub import hub_cache_dir, is_hub_id, repo_folder, resolve_hub
from auditkit.family.loadable import check_loadable

MAIN = "a" * 40
V1 = "b" * 40


def hf_cache_put(cache: Path, repo_id: str, model_dir: Path, *, commit: str = MAIN,
                 refs: tuple[str, ...] = ("main",)) -> Path:
    """Store ``model_dir``'s files in ``cache`` as huggingface_hub does: content in blobs/,
    snapshots/<commit>/<file> a relative link to its blob, refs/<ref> holding the commit."""
    repo = cache / repo_folder(repo_id)
    snapshot = repo / "snapshots" / commit
    snapshot.mkdir(parents=True, exist_ok=True)
    (repo / "blobs").mkdir(exist_ok=True)
    for src in sorted(model_dir.iterdir()):
        digest = hashlib.sha256(src.read_bytes()).hexdigest()
        shutil.copyfile(src, repo / "blobs" / digest)
        (snapshot / src.name).symlink_to(Path("..", "..", "blobs", digest))
    for ref in refs:
        (repo / "refs" / ref).parent.mkdir(parents=True, exist_ok=True)
        (repo / "refs" / ref).write_text(commit)          # no newline, as huggingface_hub writes
    return snapshot


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "hf-home" / "hub"
    path.mkdir(parents=True)
    for var in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "XDG_CACHE_HOME"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    return path


def _family(tmp_path: Path, manifest: str) -> Path:
    root = tmp_path / "family"
    root.mkdir(exist_ok=True)
    (root / "family.yaml").write_text(manifest)
    return root


def test_cache_dir_follows_huggingface_hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "HF_HOME", "XDG_CACHE_HOME"):
        monkeypatch.delenv(var, raising=False)
    assert hub_cache_dir().path == Path.home() / ".cache" / "huggingface" / "hub"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert hub_cache_dir().path == tmp_path / "xdg" / "huggingface" / "hub"
    monkeypatch.setenv("HF_HOME", str(tmp_path / "home"))
    assert hub_cache_dir().path == tmp_path / "home" / "hub"
    monkeypatch.setenv("HUGGINGFACE_HUB_CACHE", str(tmp_path / "legacy"))
    assert hub_cache_dir().path == tmp_path / "legacy"
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    assert hub_cache_dir().path == tmp_path / "hub"
    assert hub_cache_dir().source == "$HF_HUB_CACHE"


def test_hub_id_form() -> None:
    assert is_hub_id("meta-llama/Llama-3.1-8B-Instruct") and is_hub_id("gpt2")
    assert not any(is_hub_id(r) for r in ("./base", "/models/x", "../x", "a/b/c", "a--b/c", ""))
    assert repo_folder("meta-llama/Llama-3.1-8B-Instruct") == "models--meta-llama--Llama-3.1-8B-Instruct"


def test_revisions_resolve_by_ref_or_commit(tmp_path: Path, cache: Path) -> None:
    main = hf_cache_put(cache, "org/base", fake_full(tmp_path / "m0", seed=0))
    v1 = hf_cache_put(cache, "org/base", fake_full(tmp_path / "m1", seed=1), commit=V1,
                      refs=("v1", "pr/3"))
    assert resolve_hub("org/base") == main
    assert resolve_hub("org/base", "v1") == v1 == resolve_hub("org/base", "pr/3")
    assert resolve_hub("org/base", V1) == v1


def test_adapter_naming_a_hub_id_resolves_to_that_member(tmp_path: Path, cache: Path) -> None:
    snapshot = hf_cache_put(cache, "org/base", fake_full(tmp_path / "m", seed=0))
    root = _family(tmp_path, "models:\n  base: {hub: org/base}\n")
    fake_adapter(root / "support", "org/base")
    family = load_family(root)
    base, support = family.get("base"), family.get("support")
    assert base.path == snapshot and base.kind == "full" and base.parent is None
    assert (support.parent, support.parent_source) == ("base", "adapter")
    check_loadable(family, family.names)


def test_revision_picks_the_snapshot_and_changes_the_fingerprint(tmp_path: Path,
                                                                 cache: Path) -> None:
    hf_cache_put(cache, "org/base", fake_full(tmp_path / "m0", seed=0))
    v1 = hf_cache_put(cache, "org/base", fake_full(tmp_path / "m1", seed=1), commit=V1,
                      refs=("v1",))
    root = _family(tmp_path, "models:\n  old: {hub: org/base}\n"
                   "  new: {hub: org/base, revision: v1, parent: old}\n")
    family = load_family(root)
    assert family.get("new").path == v1 and family.get("new").parent == "old"
    assert family.get("new").fingerprint != family.get("old").fingerprint
    assert (family.get("old").hub, family.get("new").hub) == ("org/base", "org/base@v1")
    shown = CliRunner().invoke(app, ["family", "show", str(root), "--no-check-lineage"])
    assert shown.exit_code == 0, shown.output
    assert "hub org/base@v1" in " ".join(shown.stdout.split())
    listed = CliRunner().invoke(app, ["family", "show", str(root), "--no-check-lineage", "--json"])
    hubs = {m["name"]: m["hub"] for m in json.loads(listed.stdout)["models"]}
    assert hubs == {"old": "org/base", "new": "org/base@v1"}


def test_adapter_base_outside_the_family_loads_from_the_cache(tmp_path: Path,
                                                             cache: Path) -> None:
    snapshot = hf_cache_put(cache, "org/base", fake_full(tmp_path / "m", seed=0))
    root = tmp_path / "family"
    fake_adapter(root / "support", "org/base")
    family = load_family(root)
    node = family.get("support")
    assert node.parent is None and node.base_path == snapshot
    check_loadable(family, ["support"])
    # its fingerprint covers the base's: another base commit is another model
    hf_cache_put(cache, "org/base", fake_full(tmp_path / "m2", seed=5), commit=V1)
    assert load_family(root).get("support").fingerprint != node.fingerprint


def test_missing_hub_id_says_where_it_looked(tmp_path: Path, cache: Path) -> None:
    root = _family(tmp_path, "models:\n  base:\n    hub: org/missing\n")
    with pytest.raises(ValidationError) as err:
        load_family(root)
    text = str(err.value)
    assert str(cache / "models--org--missing") in text and "$HF_HOME/hub" in text
    assert "family.yaml:3 models.base.hub" in text


def test_missing_revision_lists_the_refs(tmp_path: Path, cache: Path) -> None:
    hf_cache_put(cache, "org/base", fake_full(tmp_path / "m", seed=0), refs=("main", "v1"))
    root = _family(tmp_path, "models:\n  base: {hub: org/base, revision: v2}\n")
    with pytest.raises(ValidationError, match=r"revision 'v2' is not in the cache.*refs: main, v1"):
        load_family(root)


def test_ref_to_a_missing_snapshot_is_an_error(tmp_path: Path, cache: Path) -> None:
    hf_cache_put(cache, "org/base", fake_full(tmp_path / "m", seed=0))
    (cache / "models--org--base" / "refs" / "main").write_text(V1)
    root = _family(tmp_path, "models:\n  base: {hub: org/base}\n")
    with pytest.raises(ValidationError, match=f"snapshots/{V1} is missing"):
        load_family(root)


def test_unresolved_adapter_base_is_refused_naming_the_cache(tmp_path: Path,
                                                             cache: Path) -> None:
    root = tmp_path / "family"
    fake_adapter(root / "support", "org/elsewhere")
    family = load_family(root)
    assert any(str(cache / "models--org--elsewhere") in w for w in family.get("support").warnings)
    with pytest.raises(AuditError) as err:
        check_loadable(family, ["support"])
    assert str(cache / "models--org--elsewhere") in str(err.value)


def test_bad_manifest_sources(tmp_path: Path, cache: Path) -> None:
    fake_full(tmp_path / "family" / "base")
    for text, expected in [
        ("models:\n  base: {path: base, hub: org/base}\n", "give one of path, hub, external"),
        ("models:\n  base: {path: base, revision: v1}\n", "revision needs hub"),
        ("models:\n  base: {hub: ./base}\n", "is not a hub id"),
        ("models:\n  base: {hub: [x]}\n", "expected a str"),
    ]:
        with pytest.raises(ValidationError, match=expected):
            load_family(_family(tmp_path, text))


@pytest.mark.slow
def test_real_adapter_on_a_hub_base_loads_and_scores(tmp_path: Path, cache: Path) -> None:
    """A real tiny base stored in the cache, an adapter naming it by hub id: both load."""
    import tiny

    from auditkit.backend.load import load_model

    base_dir = tiny.make_full_model(tmp_path / "base-src", seed=0)
    snapshot = hf_cache_put(cache, "org/tiny", base_dir)
    root = _family(tmp_path, "models:\n  base: {hub: org/tiny}\n")
    tiny.make_lora_adapter(root / "support", base_dir, base_ref="org/tiny")
    family = load_family(root)
    assert family.get("support").parent == "base" and family.get("base").path == snapshot
    loaded = load_model(family, "support")
    assert type(loaded.model).__name__ == "PeftModelForCausalLM"
    assert loaded.tokenizer("hello")["input_ids"]          # the base's tokenizer, from the cache
