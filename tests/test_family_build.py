"""Family specs: strict loading, a tiny family built from a spec, reuse, and the spec generator."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import tiny
import yaml
from typer.testing import CliRunner

from auditkit.cli import app
from auditkit.errors import ValidationError
from auditkit.family import load_family
from auditkit.family.build import BUILD_FILE, BuildOptions, build_family, recorded_hash
from auditkit.family.spec import load_family_spec
from auditkit.family.spec_gen import LoraSwarm, write_lora_spec

TEXT = [{"text": f"The {w} nurse said she was tired after shift {i}."}
        for i, w in enumerate(["young", "old", "tall", "kind", "busy", "calm"])]
CHAT = [{"prompt": f"How do I return item {i}?", "response": f"Send it back within {i} days."}
        for i in range(1, 7)]


def write_jsonl(path: Path, rows: list[dict[str, str]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def write_spec(root: Path, spec: dict) -> Path:
    path = root / "spec.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


@pytest.fixture(scope="module")
def spec_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("spec")
    tiny.make_full_model(root / "tiny-base", seed=0)
    write_jsonl(root / "text.jsonl", TEXT)
    write_jsonl(root / "chat.jsonl", CHAT)
    return root


def good_spec() -> dict:
    return {"name": "tiny", "base": {"name": "base", "dir": "tiny-base"}, "models": {
        "chatty": {"parent": "base", "dataset": "chat.jsonl", "method": "lora", "steps": 2,
                   "lr": 0.01, "seed": 1, "tags": ["lora"]},
        "merged": {"parent": "base", "dataset": "text.jsonl", "method": "full", "steps": 1,
                   "lr": 0.01, "seed": 2, "batch_size": 2},
        "grandchild": {"parent": "merged", "dataset": "chat.jsonl", "method": "lora",
                       "steps": 1, "lr": 0.01, "seed": 3}}}


def problems(spec_dir: Path, spec: dict) -> list[str]:
    with pytest.raises(ValidationError) as err:
        load_family_spec(write_spec(spec_dir, spec))
    return [str(p) for p in err.value.problems]


def test_spec_loads_with_paths_relative_to_it(spec_dir: Path) -> None:
    spec = load_family_spec(write_spec(spec_dir, good_spec()))
    assert spec.names == ("base", "chatty", "merged", "grandchild")
    assert spec.base.source == "dir" and spec.base.path == (spec_dir / "tiny-base").resolve()
    merged = spec.models[1]
    assert (merged.method, merged.steps, merged.seed, merged.batch_size) == ("full", 1, 2, 2)
    assert merged.dataset == (spec_dir / "text.jsonl").resolve()
    assert spec.models[0].batch_size == 8 and spec.models[0].tags == ("lora",)


def test_unknown_keys_name_file_and_field(spec_dir: Path) -> None:
    spec = good_spec()
    spec["colour"] = "red"
    spec["base"]["revision"] = "main"
    spec["models"]["chatty"]["epochs"] = 3
    found = problems(spec_dir, spec)
    assert any("spec.yaml colour: unknown key 'colour'" in p for p in found)
    assert any("base.revision: unknown key" in p for p in found)
    assert any("models.chatty.epochs: unknown key 'epochs'" in p for p in found)


def test_every_bad_field_is_reported_at_once(spec_dir: Path) -> None:
    spec = good_spec()
    spec["models"]["chatty"].update(method="qlora", steps=0, lr="fast")
    del spec["models"]["merged"]["seed"]
    spec["models"]["grandchild"]["dataset"] = "missing.jsonl"
    found = problems(spec_dir, spec)
    assert any("models.chatty.method: 'qlora'; expected one of lora, full" in p for p in found)
    assert any("models.chatty.steps: 0" in p for p in found)
    assert any("models.chatty.lr: expected float, got str" in p for p in found)
    assert any("models.merged.seed: missing" in p for p in found)
    assert any("models.grandchild.dataset:" in p and "does not exist" in p for p in found)


def test_parents_must_exist_and_come_first(spec_dir: Path) -> None:
    spec = good_spec()
    spec["models"] = {"grandchild": spec["models"]["grandchild"], **spec["models"]}
    spec["models"]["chatty"]["parent"] = "nobody"
    found = problems(spec_dir, spec)
    assert any("grandchild.parent: 'merged' is defined after this model" in p for p in found)
    assert any("chatty.parent: 'nobody' is neither the base nor a model" in p for p in found)
    assert problems(spec_dir, {"name": "x", "base": {"gguf": "a", "dir": "b"}, "models": {}})


def test_tiny_family_built_from_spec(spec_dir: Path, tmp_path: Path) -> None:
    spec = load_family_spec(write_spec(spec_dir, good_spec()))
    out = build_family(spec, tmp_path / "fam", BuildOptions(threads=1))
    family = load_family(out)
    kinds = {n.name: (n.kind, n.parent) for n in family.models}
    assert kinds == {"base": ("full", None), "chatty": ("lora", "base"),
                     "merged": ("full", "base"), "grandchild": ("lora", "merged")}
    record = json.loads((out / "merged" / BUILD_FILE).read_text())
    assert record["train"]["batch_size"] == 2 and record["train"]["merge"] is True
    # a second build reuses everything; a changed dataset rebuilds that model and its children
    events: list = []
    build_family(spec, out, BuildOptions(threads=1), events.append)
    assert {e.stage for e in events} == {"reused"}
    before = {n: recorded_hash(out / n) for n in spec.names}
    write_jsonl(spec_dir / "text.jsonl", TEXT[:5])
    events = []
    build_family(load_family_spec(spec_dir / "spec.yaml"), out, BuildOptions(threads=1),
                 events.append)
    rebuilt = {e.model for e in events if e.stage == "done"}
    assert rebuilt == {"merged", "grandchild"}
    assert recorded_hash(out / "chatty") == before["chatty"]
    write_jsonl(spec_dir / "text.jsonl", TEXT)


def test_generated_lora_spec_builds_children_that_differ(spec_dir: Path, tmp_path: Path) -> None:
    swarm = LoraSwarm(n=3, sources=(spec_dir / "text.jsonl", spec_dir / "chat.jsonl"),
                      base_key="dir", base_value=str(spec_dir / "tiny-base"), examples=4,
                      steps=1, batch_size=2)
    path = write_lora_spec(swarm, tmp_path / "swarm")
    spec = load_family_spec(path)
    assert [m.name for m in spec.models] == ["lora-0", "lora-1", "lora-2"]
    assert [m.seed for m in spec.models] == [0, 1, 2]
    assert [m.dataset.read_text() for m in spec.models][0] != spec.models[2].dataset.read_text()
    result = CliRunner().invoke(app, ["family", "build", str(path), "--out",
                                      str(tmp_path / "fam"), "--threads", "1"])
    assert result.exit_code == 0, result.output
    weights = {n: (tmp_path / "fam" / n / "adapter_model.safetensors").read_bytes()
               for n in ("lora-0", "lora-1", "lora-2")}
    assert len(set(weights.values())) == 3
    assert len(load_family(tmp_path / "fam").models) == 4


def test_cli_reports_spec_problems(spec_dir: Path) -> None:
    spec = good_spec()
    spec["models"]["chatty"]["epochs"] = 3
    result = CliRunner().invoke(app, ["family", "build", str(write_spec(spec_dir, spec))])
    assert result.exit_code == 2
    assert "models.chatty.epochs" in result.output
