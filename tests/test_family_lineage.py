"""Lineage: each source of evidence, the order of authority, several roots, topological order."""
from __future__ import annotations

from pathlib import Path

from family_helpers import fake_adapter, fake_family, fake_full, fake_gguf

from auditkit.family import load_family


def _links(root: Path) -> dict[str, tuple[str | None, str]]:
    return {m.name: (m.parent, m.parent_source) for m in load_family(root).models}


def test_lineage_from_metadata(tmp_path: Path) -> None:
    fake_family(tmp_path)
    family = load_family(tmp_path)
    assert {m.name: (m.parent, m.parent_source) for m in family.models} == {
        "base": (None, "none"), "lora-a": ("base", "adapter"),
        "ft": ("base", "config"), "lora-b": ("ft", "adapter"),
    }
    assert family.names == ["base", "ft", "lora-b", "lora-a"]  # depth-first, children by name
    assert family.warnings == ()


def test_refs_by_relative_and_absolute_path(tmp_path: Path) -> None:
    fake_full(tmp_path / "models" / "base")
    fake_adapter(tmp_path / "models" / "a", "./models/base")           # relative to the family
    fake_adapter(tmp_path / "adapters" / "b", "../../models/base")     # relative to the adapter
    fake_adapter(tmp_path / "c", str(tmp_path / "models" / "base"))    # absolute
    fake_full(tmp_path / "ft", name_or_path=str(tmp_path / "models" / "base" / "."))
    parents = {name: link[0] for name, link in _links(tmp_path).items()}
    assert parents == {"models/base": None, "models/a": "models/base",
                       "adapters/b": "models/base", "c": "models/base", "ft": "models/base"}


def test_manifest_overrides_adapter_metadata(tmp_path: Path) -> None:
    fake_family(tmp_path)
    (tmp_path / "family.yaml").write_text("models:\n  lora-a: {parent: ft, intent: tone}\n")
    family = load_family(tmp_path)
    node = family.get("lora-a")
    assert (node.parent, node.parent_source, node.intent) == ("ft", "manifest", "tone")
    assert node.warnings == ("adapter_config.json names base 'base' (member 'base') but "
                             "family.yaml sets parent 'ft'; family.yaml wins",)
    # Models the manifest lists without a parent keep their metadata lineage.
    (tmp_path / "family.yaml").write_text("models:\n  lora-a: {intent: tone}\n")
    assert _links(tmp_path)["lora-a"] == ("base", "adapter")


def test_manifest_names_replace_paths_in_refs(tmp_path: Path) -> None:
    fake_family(tmp_path)
    (tmp_path / "family.yaml").write_text("name: demo\nmodels:\n  foundation: {path: base}\n")
    family = load_family(tmp_path)
    assert family.name == "demo"
    assert family.get("lora-a").parent == "foundation"     # adapter ref "base" is a path here
    assert family.get("ft").parent == "foundation"


def test_adapter_beats_config(tmp_path: Path) -> None:
    fake_full(tmp_path / "base")
    fake_full(tmp_path / "other", seed=3)
    adapter = fake_adapter(tmp_path / "a", "base")
    (adapter / "config.json").write_text('{"_name_or_path": "other"}')
    assert _links(tmp_path)["a"] == ("base", "adapter")


def test_config_naming_itself_is_a_root(tmp_path: Path) -> None:
    fake_full(tmp_path / "base", name_or_path="base")
    assert _links(tmp_path) == {"base": (None, "none")}


def test_several_roots_warn(tmp_path: Path) -> None:
    fake_family(tmp_path)
    fake_full(tmp_path / "stray", name_or_path="HuggingFaceTB/SmolLM2-135M")
    fake_gguf(tmp_path / "q.gguf")
    family = load_family(tmp_path)
    assert [r.name for r in family.roots] == ["base", "q.gguf", "stray"]
    assert family.warnings == ("the family has 3 roots (base, q.gguf, stray); no lineage evidence "
                               "for base, q.gguf, stray: give their parents in family.yaml",)


def test_gguf_parent_from_manifest(tmp_path: Path) -> None:
    fake_full(tmp_path / "base")
    fake_gguf(tmp_path / "base-q4.gguf")
    (tmp_path / "family.yaml").write_text("models:\n  q4: {path: base-q4.gguf, parent: base}\n")
    family = load_family(tmp_path)
    assert family.names == ["base", "q4"]
    assert family.get("q4").parent_source == "manifest" and family.warnings == ()


def test_adapter_with_unknown_base_is_a_root_with_warning(tmp_path: Path) -> None:
    fake_full(tmp_path / "base")
    fake_adapter(tmp_path / "a", "HuggingFaceTB/SmolLM2-135M")
    fake_adapter(tmp_path / "b", None)
    family = load_family(tmp_path)
    assert family.get("a").warnings[0].startswith(
        "base 'HuggingFaceTB/SmolLM2-135M' is not a member of the family nor a local directory; "
        "this adapter cannot be loaded (auditkit never downloads models); not in the local "
        "Hugging Face cache either: looked in ")
    assert family.get("b").warnings[0].startswith("adapter has no base")
    assert len(family.roots) == 3


def test_family_directory_that_is_one_model(tmp_path: Path) -> None:
    fake_full(tmp_path / "solo")
    family = load_family(tmp_path / "solo")
    assert (family.name, family.names) == ("solo", ["solo"])
