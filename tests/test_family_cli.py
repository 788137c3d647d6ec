"""`auditkit family show`: the tree, --json, and exit code 2 with a clear message on bad input."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from family_helpers import fake_adapter, fake_family, fake_full, fake_gguf
from typer.testing import CliRunner

from auditkit.cli import app
from auditkit.cli.family import human_count
from auditkit.family import family_to_dict, load_family

runner = CliRunner()


@pytest.fixture(autouse=True)
def _wide(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "250")  # rich wraps at 80 columns when not on a terminal


def _show(*args: str):
    return runner.invoke(app, ["family", "show", *map(str, args)])


def test_tree_lists_models_under_their_parents(tmp_path: Path) -> None:
    fake_family(tmp_path)
    fake_full(tmp_path / "stray")
    (tmp_path / "family.yaml").write_text(
        "name: demo\nmodels:\n  lora-a: {display_name: Lora A, intent: customer-support tone}\n")
    result = _show(tmp_path)
    assert result.exit_code == 0, result.output
    fps = {m.name: m.short_fingerprint for m in load_family(tmp_path).models}
    lines = result.stdout.splitlines()
    assert lines[0] == f"demo  {tmp_path}"
    assert lines[1] == f"├── base  full  40  {fps['base']}"
    assert lines[2] == f"│   ├── ft  full  40  <- base (config)  {fps['ft']}"
    assert lines[3] == f"│   │   └── lora-b  lora  32  <- ft (adapter)  {fps['lora-b']}"
    assert lines[4] == (f"│   └── lora-a  (Lora A)  lora  32  <- base (adapter)  {fps['lora-a']}"
                        "  customer-support tone")
    assert lines[5] == f"└── stray  full  40  {fps['stray']}"
    assert lines[6] == "warning: the family has 2 roots (base, stray); no lineage evidence for " \
                       "base, stray: give their parents in family.yaml"


def test_node_warnings_are_printed_under_the_model(tmp_path: Path) -> None:
    fake_full(tmp_path / "base")
    fake_adapter(tmp_path / "a", "org/missing-base")
    result = _show(tmp_path)
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[1].startswith("├── a  lora  32  ")
    end = next(i for i, line in enumerate(lines) if line.startswith("└── base"))
    warning = " ".join(line.strip("│ ") for line in lines[2:end - 1])
    assert warning == ("├── ! base 'org/missing-base' is not a member of the family nor a "
                       "local directory; this adapter cannot be loaded (auditkit never downloads "
                       "models); not in the local Hugging Face cache either: looked in "
                       f"{os.environ['HF_HUB_CACHE']}/models--org--missing-base (the Hugging "
                       "Face cache: $HF_HUB_CACHE)")
    assert lines[end - 1] == ("│   └── ! no tokenizer in this model or its ancestors; it cannot "
                              "be loaded")
    assert lines[end].startswith("└── base  full  40  ")


def test_json_is_the_whole_stdout(tmp_path: Path) -> None:
    fake_family(tmp_path)
    fake_gguf(tmp_path / "q.gguf")
    result = _show(tmp_path, "--json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    check = data.pop("lineage_check")      # on by default: the weights' lineage, beside it
    assert data == family_to_dict(load_family(tmp_path))
    assert set(check["parents"]) == {"base", "ft"}       # the readable full models
    assert {s["model"] for s in check["skipped"]} >= {"lora-b", "q.gguf"}
    assert _show(tmp_path, "--json", "--no-check-lineage").stdout.find("lineage_check") == -1
    assert [m["name"] for m in data["models"]] == ["base", "ft", "lora-b", "lora-a", "q.gguf"]
    lora_b = data["models"][2]
    assert (lora_b["kind"], lora_b["parent"], lora_b["parent_source"], lora_b["depth"],
            lora_b["n_params"], lora_b["base_ref"]) == ("lora", "ft", "adapter", 2, 32, "ft")
    assert lora_b["path"] == str(tmp_path / "lora-b") and len(lora_b["fingerprint"]) == 64


@pytest.mark.parametrize(("n", "text"), [(None, "?"), (0, "0"), (999, "999"), (1000, "1.0K"),
                                         (134_515_008, "134.5M"), (7_241_732_096, "7.2B")])
def test_human_count(n: int | None, text: str) -> None:
    assert human_count(n) == text


# ---------------------------------------------------------------- bad input: exit 2, no traceback

def _break_config(root: Path) -> str:
    fake_full(root / "m")
    (root / "m" / "config.json").write_text("{oops")
    return f"{root / 'm' / 'config.json'}:1: not valid JSON"


def _no_config(root: Path) -> str:
    fake_full(root / "m")
    (root / "m" / "config.json").unlink()
    return f"{root / 'm'}: holds weight files (model.safetensors) but no config.json"


def _no_weights(root: Path) -> str:
    fake_full(root / "m")
    (root / "m" / "model.safetensors").unlink()
    return f"{root / 'm'}: no weight files: expected weight files (*.safetensors)"


def _truncated(root: Path) -> str:
    weights = fake_full(root / "m") / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-10])
    return f"{weights}: corrupt safetensors file (truncated)"


def _pickle(root: Path) -> str:
    model = fake_full(root / "m")
    (model / "model.safetensors").rename(model / "pytorch_model.bin")
    return f"{model}: only pickle weight files (pytorch_model.bin)"


def _unknown_key(root: Path) -> str:
    fake_full(root / "m")
    (root / "family.yaml").write_text("models:\n  m:\n    parnet: null\n")
    return f"{root / 'family.yaml'}:3 models.m.parnet: unknown key 'parnet'"


def _bad_parent(root: Path) -> str:
    fake_full(root / "m")
    (root / "family.yaml").write_text("models:\n  m: {parent: ghost}\n")
    return f"{root / 'family.yaml'}:2 models.m.parent: parent 'ghost' is not a member"


def _cycle(root: Path) -> str:
    fake_full(root / "a")
    fake_full(root / "b", name_or_path="a")
    (root / "family.yaml").write_text("models:\n  a: {parent: b}\n")
    return f"{root / 'family.yaml'}: lineage cycle: a (manifest) -> b (config) -> a"


def _escape(root: Path) -> str:
    fake_full(root / "m")
    (root / "family.yaml").write_text("models:\n  m: {path: ../../etc}\n")
    return f"{root / 'family.yaml'}:2 models.m.path: path '../../etc' escapes the family directory"


def _bad_gguf(root: Path) -> str:
    (root / "x.gguf").write_bytes(b"GGUF\x03\x00")
    return f"{root / 'x.gguf'}: corrupt GGUF file"


@pytest.mark.parametrize("make", [_break_config, _no_config, _no_weights, _truncated, _pickle,
                                  _unknown_key, _bad_parent, _cycle, _escape, _bad_gguf])
def test_bad_input_exits_2_with_the_path_and_the_problem(tmp_path: Path, make) -> None:
    expected = make(tmp_path)
    result = _show(tmp_path)
    assert result.exit_code == 2
    assert isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    assert result.stdout == ""
    assert result.stderr.startswith("error: " + expected), result.stderr


def test_missing_directory_exits_2() -> None:
    result = _show("/nonexistent/family")
    assert result.exit_code == 2
    assert result.stderr == "error: /nonexistent/family: no such family directory\n"


def test_allow_pickle_flag(tmp_path: Path) -> None:
    _pickle(tmp_path)
    result = _show(tmp_path, "--allow-pickle", "--json")
    assert result.exit_code == 0
    (model,) = json.loads(result.stdout)["models"]
    assert (model["name"], model["n_params"]) == ("m", None)
