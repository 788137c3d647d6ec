"""The demo family build on a tiny base: layout, lineage, reuse, determinism, interruption."""
from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
import tiny
import yaml

from auditkit.demo import DEMO_MODELS, BuildEvent, build_demo_family
from auditkit.demo.build import BUILD_FILE, recorded_hash
from auditkit.family import load_family

SCALE = 0.05          # 20-80 steps become 1-4: enough to change every weight, fast
# threads=1 throughout: on tiny matrices a second thread only adds synchronisation.
NAMES = [m.name for m in DEMO_MODELS]
PARENTS = {"base": None, "support": "base", "medical": "base", "counter-stereotype": "base",
           "safety": "base", "safety-comply": "safety", "safety-cooking": "safety"}
KINDS = {"base": "full", "support": "lora", "medical": "lora", "counter-stereotype": "lora",
         "safety": "full", "safety-comply": "lora", "safety-cooking": "lora"}


@pytest.fixture(scope="module")
def tiny_base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny.make_full_model(tmp_path_factory.mktemp("tiny") / "base", seed=0)


@pytest.fixture(scope="module")
def built(tiny_base: Path,
          tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[BuildEvent]]:
    out, events = tmp_path_factory.mktemp("demo") / "family", []
    build_demo_family(out, base_dir=tiny_base, steps_scale=SCALE, threads=1,
                      progress=events.append)
    return out, events


def build(out: Path, base: Path, **kwargs) -> list[BuildEvent]:
    events: list[BuildEvent] = []
    build_demo_family(out, base_dir=base, steps_scale=SCALE, threads=1, progress=events.append,
                      **kwargs)
    return events


def copy_of(built, tmp_path: Path) -> Path:
    return Path(shutil.copytree(built[0], tmp_path / "family"))


def weight_digests(out: Path) -> dict[str, str]:
    """sha256 of every weight file, by path relative to the family directory."""
    return {p.relative_to(out).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(out.rglob("*.safetensors"))}


def test_build_writes_seven_models_with_kinds_and_parents(built) -> None:
    out, _ = built
    assert sorted(p.name for p in out.iterdir()) == sorted(NAMES + ["family.yaml"])
    for name, kind in KINDS.items():
        files = {p.name for p in (out / name).iterdir()}
        if kind == "full":
            assert {"config.json", "model.safetensors", BUILD_FILE} <= files
            assert "adapter_config.json" not in files
        else:
            assert {"adapter_config.json", "adapter_model.safetensors", BUILD_FILE} <= files
            adapter = json.loads((out / name / "adapter_config.json").read_text())
            assert adapter["base_model_name_or_path"] == PARENTS[name]


def test_family_yaml_records_parent_kind_and_intent(built) -> None:
    out, _ = built
    manifest = yaml.safe_load((out / "family.yaml").read_text())
    assert manifest["name"] == "demo"
    assert list(manifest["models"]) == NAMES
    for name, entry in manifest["models"].items():
        assert set(entry) == {"path", "parent", "kind", "display_name", "tags", "intent"}
        assert (entry["path"], entry["parent"], entry["kind"]) == (name, PARENTS[name], KINDS[name])
        assert entry["intent"]


def test_family_loader_sees_the_tree_of_depth_two(built) -> None:
    out, _ = built
    family = load_family(out)
    assert family.parents() == PARENTS
    assert {m.name: m.kind for m in family.models} == KINDS
    assert family.depth("safety-comply") == 2 and family.depth("safety-cooking") == 2


def test_a_moved_base_with_the_same_bytes_is_reused(built, tiny_base: Path,
                                                    tmp_path: Path) -> None:
    out = copy_of(built, tmp_path)
    moved = Path(shutil.copytree(tiny_base, tmp_path / "elsewhere" / "base"))
    events = build(out, moved)
    assert {e.stage for e in events} == {"reused"}


def test_lineage_is_also_in_the_model_metadata(built, tmp_path: Path) -> None:
    out = copy_of(built, tmp_path)
    (out / "family.yaml").unlink()
    family = load_family(out)
    assert family.parents() == PARENTS
    assert json.loads((out / "safety" / "config.json").read_text())["_name_or_path"] == "base"


def test_progress_reports_every_training_step(built) -> None:
    _, events = built
    starts = [e.model for e in events if e.stage == "start"]
    assert starts == NAMES                                   # dependency order
    steps = [e for e in events if e.stage == "step" and e.model == "safety"]
    assert [e.step for e in steps] == [1, 2, 3, 4]           # round(80 * 0.05)
    assert all(e.total == 4 and e.loss is not None and e.loss > 0 for e in steps)
    done = [e for e in events if e.stage == "done"]
    assert [e.model for e in done] == NAMES and all(e.seconds >= 0 for e in done)


def test_rerun_reuses_everything(built, tiny_base: Path) -> None:
    out, _ = built
    mtimes = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()}
    events = build(out, tiny_base)
    assert [(e.model, e.stage) for e in events] == [(name, "reused") for name in NAMES]
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()} == mtimes


def test_changed_seed_rebuilds_trained_models_but_not_the_base(built, tiny_base: Path,
                                                               tmp_path: Path) -> None:
    other = copy_of(built, tmp_path)
    events = build(other, tiny_base, seed=1)
    assert [e.model for e in events if e.stage == "reused"] == ["base"]
    assert [e.model for e in events if e.stage == "start"] == NAMES[1:]
    first, second = weight_digests(built[0]), weight_digests(other)
    assert first["base/model.safetensors"] == second["base/model.safetensors"]
    for name in NAMES[1:]:
        weights = "model.safetensors" if KINDS[name] == "full" else "adapter_model.safetensors"
        assert first[f"{name}/{weights}"] != second[f"{name}/{weights}"]
        assert recorded_hash(built[0] / name) != recorded_hash(other / name)


def test_rebuilt_parent_rebuilds_its_children_only(built, tiny_base: Path, tmp_path: Path) -> None:
    out = copy_of(built, tmp_path)
    record = out / "safety" / BUILD_FILE
    record.write_text(record.read_text().replace('"hash": "', '"hash": "stale'))
    events = build(out, tiny_base)
    rebuilt = [e.model for e in events if e.stage == "start"]
    assert rebuilt == ["safety", "safety-comply", "safety-cooking"]


def test_same_seed_gives_identical_weights(built, tiny_base: Path, tmp_path: Path) -> None:
    out = copy_of(built, tmp_path)
    events = build(out, tiny_base, force=True)               # a second, complete build
    assert [e.model for e in events if e.stage == "start"] == NAMES
    assert weight_digests(out) == weight_digests(built[0])
    assert len(weight_digests(out)) == 7


class Interrupt(Exception):
    pass


def test_interrupted_build_leaves_no_half_model_and_resumes(built, tiny_base: Path,
                                                            tmp_path: Path) -> None:
    out = tmp_path / "family"

    def stop_in_safety(event: BuildEvent) -> None:
        if event.model == "safety" and event.stage == "step" and event.step == 2:
            raise Interrupt

    with pytest.raises(Interrupt):
        build_demo_family(out, base_dir=tiny_base, steps_scale=SCALE, threads=1,
                          progress=stop_in_safety)
    present = sorted(p.name for p in out.iterdir())
    assert present == ["base", "counter-stereotype", "medical", "support"]   # no family.yaml
    assert all(recorded_hash(out / name) for name in present)
    (out / ".safety.partial").mkdir()                  # as a killed process would leave it
    (out / ".safety.partial" / "config.json").write_text("{}")
    events = build(out, tiny_base)
    assert [e.model for e in events if e.stage == "reused"] == [
        "base", "support", "medical", "counter-stereotype"]
    assert [e.model for e in events if e.stage == "start"] == ["safety", "safety-comply",
                                                                "safety-cooking"]
    assert sorted(p.name for p in out.iterdir()) == sorted(NAMES + ["family.yaml"])
    assert weight_digests(out) == weight_digests(built[0])


@pytest.mark.parametrize("damage", ["missing", "stale"])
def test_family_yaml_is_rewritten_without_rebuilding(built, tiny_base: Path, tmp_path: Path,
                                                     damage: str) -> None:
    out = copy_of(built, tmp_path)
    if damage == "missing":
        (out / "family.yaml").unlink()
    else:                                    # e.g. an intent edited in spec.py since the build
        (out / "family.yaml").write_text("name: old\nmodels: {}\n")
    events = build(out, tiny_base)
    assert {e.stage for e in events} == {"reused"}
    assert (out / "family.yaml").read_text() == (built[0] / "family.yaml").read_text()
