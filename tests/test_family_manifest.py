"""family.yaml: strict parsing, with the file, line and field of every problem."""
from __future__ import annotations

from pathlib import Path

import pytest
from family_helpers import fake_family, fake_full

from auditkit.errors import AuditError, ValidationError
from auditkit.family import load_family, load_family_manifest


def _write(root: Path, text: str) -> Path:
    path = root / "family.yaml"
    path.write_text(text)
    return path


def test_full_manifest_is_parsed(tmp_path: Path) -> None:
    fake_family(tmp_path)
    path = _write(tmp_path, "name: demo\nmodels:\n"
                  "  root:\n    path: ./base\n    parent: null\n    display_name: Base\n"
                  "    kind: full\n    tags: [base, v1]\n    intent: the foundation\n"
                  "  lora-a: {parent: root}\n")
    manifest = load_family_manifest(path)
    assert manifest.name == "demo"
    root, lora = manifest.entries
    assert (root.name, root.rel_path, root.path, root.parent, root.has_parent) == \
        ("root", "base", tmp_path / "base", None, True)
    assert (root.display_name, root.kind, root.tags, root.intent, root.line) == \
        ("Base", "full", ("base", "v1"), "the foundation", 3)
    assert (lora.rel_path, lora.parent, lora.parent_line) == ("lora-a", "root", 10)


def _problems(path: Path) -> list[tuple[int | None, str | None, str]]:
    with pytest.raises(ValidationError) as err:
        load_family_manifest(path)
    assert all(p.path == str(path) for p in err.value.problems)
    return [(p.line, p.field, p.message) for p in err.value.problems]


def test_unknown_keys_with_lines(tmp_path: Path) -> None:
    fake_full(tmp_path / "base")
    path = _write(tmp_path, "name: x\nversion: 2\nmodels:\n  base:\n    parnet: null\n")
    assert _problems(path) == [
        (2, "version", "unknown key 'version'; expected one of name, models"),
        (5, "models.base.parnet",
         "unknown key 'parnet'; expected one of path, parent, display_name, kind, tags, intent, "
         "hub, revision, external"),
    ]


def test_wrong_types_and_kind(tmp_path: Path) -> None:
    fake_full(tmp_path / "base")
    path = _write(tmp_path, "name: [x]\nmodels:\n  base:\n    tags: base\n    kind: lorra\n"
                  "    parent: 3\n")
    assert _problems(path) == [
        (1, "name", "expected a str, found ['x']"),
        (6, "models.base.parent", "expected a str or null, found 3"),
        (5, "models.base.kind", "unknown kind 'lorra'; expected one of full, lora, gguf, external"),
        (4, "models.base.tags", "expected a list of strings, found 'base'"),
    ]


def test_models_must_be_a_mapping(tmp_path: Path) -> None:
    path = _write(tmp_path, "models:\n  - base\n")
    assert _problems(path) == [(2, "models", "expected a mapping")]


def test_duplicate_key(tmp_path: Path) -> None:
    fake_full(tmp_path / "base")
    path = _write(tmp_path, "models:\n  base: {}\n  base: {parent: null}\n")
    assert _problems(path) == [(3, "models.base", "duplicate key 'base'")]


@pytest.mark.parametrize("rel", ["../outside", "/etc", "base/../../x", ""])
def test_path_escaping_the_family(tmp_path: Path, rel: str) -> None:
    (tmp_path / "fam").mkdir()
    fake_full(tmp_path / "outside")
    path = _write(tmp_path / "fam", f"models:\n  m:\n    path: '{rel}'\n")
    ((line, field, message),) = _problems(path)
    assert (line, field) == (3, "models.m.path")
    assert message == f"path {rel!r} escapes the family directory (expected a path relative to " \
                      "it, without '..')"


def test_path_that_does_not_exist(tmp_path: Path) -> None:
    path = _write(tmp_path, "models:\n  m:\n    path: nowhere\n  base: {}\n")
    assert _problems(path) == [
        (3, "models.m.path", f"path 'nowhere' does not exist in {tmp_path}"),
        (4, "models.base.path", f"path 'base' does not exist in {tmp_path}"),
    ]


def test_two_entries_with_one_path(tmp_path: Path) -> None:
    fake_full(tmp_path / "base")
    path = _write(tmp_path, "models:\n  base: {}\n  again: {path: base}\n")
    assert _problems(path) == [(3, "models.again.path", "path 'base' is also model 'base''s path")]


def test_invalid_yaml_has_a_line(tmp_path: Path) -> None:
    path = _write(tmp_path, "models:\n  base: {parent: [x\n")
    with pytest.raises(AuditError) as err:
        load_family_manifest(path)
    (problem,) = err.value.problems
    assert (problem.path, problem.line) == (str(path), 3)
    assert problem.message.startswith("not valid YAML")


def test_empty_manifest_is_allowed(tmp_path: Path) -> None:
    fake_family(tmp_path)
    _write(tmp_path, "")
    assert len(load_family(tmp_path).models) == 4


# ------------------------------------------------ checks that need the members found on disk

def test_parent_that_is_not_a_member(tmp_path: Path) -> None:
    fake_family(tmp_path)
    path = _write(tmp_path, "models:\n  ft:\n    path: ft\n    parent: bsae\n")
    with pytest.raises(ValidationError) as err:
        load_family(tmp_path)
    (problem,) = err.value.problems
    assert (problem.path, problem.line, problem.field) == (str(path), 4, "models.ft.parent")
    assert problem.message == "parent 'bsae' is not a member of the family (members: base, ft, " \
                              "lora-a, lora-b)"


def test_cycle_names_the_models(tmp_path: Path) -> None:
    fake_family(tmp_path)
    path = _write(tmp_path, "models:\n  base: {parent: lora-b}\n")
    with pytest.raises(AuditError) as err:
        load_family(tmp_path)
    assert str(err.value) == (f"{path}: lineage cycle: base (manifest) -> lora-b (adapter) -> "
                              "ft (config) -> base; each model's parent (source in brackets) "
                              "leads back to it")


def test_self_parent_is_a_cycle(tmp_path: Path) -> None:
    fake_full(tmp_path / "base")
    _write(tmp_path, "models:\n  base: {parent: base}\n")
    with pytest.raises(AuditError, match=r"lineage cycle: base \(manifest\) -> base"):
        load_family(tmp_path)


def test_kind_checked_against_disk(tmp_path: Path) -> None:
    fake_family(tmp_path)
    path = _write(tmp_path, "models:\n  lora-a: {kind: full}\n")
    with pytest.raises(ValidationError) as err:
        load_family(tmp_path)
    (problem,) = err.value.problems
    assert (problem.path, problem.line, problem.field) == (str(path), 2, "models.lora-a")
    assert problem.message == "kind is 'full' but 'lora-a' holds a lora model"


def test_path_that_holds_no_model(tmp_path: Path) -> None:
    fake_family(tmp_path)
    (tmp_path / "notes").mkdir()
    _write(tmp_path, "models:\n  notes: {}\n")
    with pytest.raises(ValidationError, match="path 'notes' holds no model"):
        load_family(tmp_path)


def test_manifest_name_clash_with_unlisted_model(tmp_path: Path) -> None:
    fake_family(tmp_path)
    _write(tmp_path, "models:\n  ft: {path: lora-a}\n")  # the directory ft keeps the name "ft"
    with pytest.raises(ValidationError, match="model name 'ft' is also used by"):
        load_family(tmp_path)
