"""Discovery: each kind of model, parameter counts from headers, and broken model files."""
from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest
from family_helpers import (
    ADAPTER_PARAMS,
    FULL_PARAMS,
    GGUF_PARAMS,
    fake_adapter,
    fake_family,
    fake_full,
    fake_gguf,
)

from auditkit.errors import AuditError
from auditkit.family import load_family


def test_discovers_each_kind_with_names_kinds_and_param_counts(tmp_path: Path) -> None:
    fake_family(tmp_path)
    fake_gguf(tmp_path / "quant" / "model-q4.gguf")
    family = load_family(tmp_path)
    kinds = {m.name: (m.kind, m.n_params) for m in family.models}
    assert kinds == {
        "base": ("full", FULL_PARAMS), "ft": ("full", FULL_PARAMS),
        "lora-a": ("lora", ADAPTER_PARAMS), "lora-b": ("lora", ADAPTER_PARAMS),
        "quant/model-q4.gguf": ("gguf", GGUF_PARAMS),
    }
    assert family.get("quant/model-q4.gguf").path == tmp_path / "quant" / "model-q4.gguf"
    assert family.get("lora-a").base_ref == "base"
    assert family.name == tmp_path.name


def test_nested_layout_and_symlinked_model_found_once(tmp_path: Path) -> None:
    fake_full(tmp_path / "org" / "base")
    (tmp_path / "alias").symlink_to(tmp_path / "org" / "base")
    fake_full(tmp_path / ".hidden" / "skipped")
    family = load_family(tmp_path)
    assert [m.name for m in family.models] == ["alias"]  # sorted walk meets the link first


def test_sharded_params_are_summed_and_missing_shard_is_an_error(tmp_path: Path) -> None:
    model = fake_full(tmp_path / "m")
    (model / "model.safetensors").rename(model / "model-00001-of-00002.safetensors")
    fake_full(tmp_path / "other", seed=5)
    (tmp_path / "other" / "model.safetensors").rename(model / "model-00002-of-00002.safetensors")
    (tmp_path / "other" / "config.json").unlink()
    (tmp_path / "other" / "tokenizer_config.json").unlink()
    index = {"weight_map": {"a": "model-00001-of-00002.safetensors",
                            "b": "model-00002-of-00002.safetensors"}}
    (model / "model.safetensors.index.json").write_text(json.dumps(index))
    assert load_family(tmp_path).get("m").n_params == 2 * FULL_PARAMS
    (model / "model-00002-of-00002.safetensors").unlink()
    with pytest.raises(AuditError) as err:
        load_family(tmp_path)
    assert "model.safetensors.index.json" in str(err.value)
    assert "missing: model-00002-of-00002.safetensors" in str(err.value)


def test_config_without_weights_names_the_directory(tmp_path: Path) -> None:
    model = fake_full(tmp_path / "empty")
    (model / "model.safetensors").unlink()
    with pytest.raises(AuditError) as err:
        load_family(tmp_path)
    assert str(err.value).startswith(str(model) + ": no weight files")


def test_weights_without_config_is_an_error(tmp_path: Path) -> None:
    model = fake_full(tmp_path / "noconf")
    (model / "config.json").unlink()
    with pytest.raises(AuditError) as err:
        load_family(tmp_path)
    assert str(err.value).startswith(str(model) + ": holds weight files (model.safetensors)")
    assert "no config.json" in str(err.value)


def test_unreadable_config_names_file_and_line(tmp_path: Path) -> None:
    model = fake_full(tmp_path / "m")
    (model / "config.json").write_text('{\n  "model_type": "llama",\n}')
    with pytest.raises(AuditError) as err:
        load_family(tmp_path)
    assert err.value.problems[0].path == str(model / "config.json")
    assert err.value.problems[0].line == 3
    assert "not valid JSON" in str(err.value)


def test_config_that_is_not_an_object(tmp_path: Path) -> None:
    model = fake_full(tmp_path / "m")
    (model / "config.json").write_text("[1, 2]")
    with pytest.raises(AuditError, match="expected a JSON object, found list"):
        load_family(tmp_path)


def test_adapter_without_weights(tmp_path: Path) -> None:
    fake_full(tmp_path / "base")
    adapter = fake_adapter(tmp_path / "a", "base")
    (adapter / "adapter_model.safetensors").unlink()
    with pytest.raises(AuditError) as err:
        load_family(tmp_path)
    assert str(err.value) == f"{adapter}: no weight files: expected adapter weights " \
                             "(adapter_model.safetensors)"


@pytest.mark.parametrize("cut", [4, 60])
def test_truncated_safetensors_names_the_file(tmp_path: Path, cut: int) -> None:
    model = fake_full(tmp_path / "m")
    weights = model / "model.safetensors"
    data = weights.read_bytes()
    weights.write_bytes(data[:cut])  # inside the length field; inside the header
    with pytest.raises(AuditError) as err:
        load_family(tmp_path)
    assert err.value.problems[0].path == str(weights)
    assert "corrupt safetensors file" in str(err.value)


def test_truncated_data_reports_both_sizes(tmp_path: Path) -> None:
    weights = fake_full(tmp_path / "m") / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-3])
    with pytest.raises(AuditError) as err:
        load_family(tmp_path)
    # 40 float32 = 160 bytes of data indexed; 3 bytes cut.
    assert "(truncated): the header indexes 160 bytes of tensor data, the file holds 157" \
        in str(err.value)


def test_corrupt_header_json(tmp_path: Path) -> None:
    weights = fake_full(tmp_path / "m") / "model.safetensors"
    header = b"{not json!"
    weights.write_bytes(struct.pack("<Q", len(header)) + header)
    with pytest.raises(AuditError, match="the header is not valid JSON"):
        load_family(tmp_path)


def test_header_entry_with_wrong_byte_count(tmp_path: Path) -> None:
    weights = fake_full(tmp_path / "m") / "model.safetensors"
    header = json.dumps({"w": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 8]}}).encode()
    weights.write_bytes(struct.pack("<Q", len(header)) + header + bytes(8))
    with pytest.raises(AuditError, match=r"tensor 'w' \(F32 \[2, 2\]\) has data offsets \[0, 8\]"):
        load_family(tmp_path)


def test_corrupt_gguf_names_the_file(tmp_path: Path) -> None:
    good = fake_gguf(tmp_path / "good.gguf")
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(good.read_bytes()[:40])
    with pytest.raises(AuditError) as err:
        load_family(tmp_path)
    assert err.value.problems[0].path == str(bad)
    assert "corrupt GGUF file" in str(err.value)
    bad.write_bytes(b"PK\x03\x04 not gguf")
    with pytest.raises(AuditError, match="not a GGUF file"):
        load_family(tmp_path)


@pytest.mark.parametrize("name", ["pytorch_model.bin", "model.pt", "weights.pth"])
def test_pickle_weights_refused_unless_allowed(tmp_path: Path, name: str) -> None:
    model = fake_full(tmp_path / "m")
    (model / "model.safetensors").unlink()
    (model / name).write_bytes(b"\x80\x04pickle")
    with pytest.raises(AuditError) as err:
        load_family(tmp_path)
    assert str(err.value).startswith(f"{model}: only pickle weight files ({name})")
    assert "--allow-pickle" in str(err.value)
    node = load_family(tmp_path, allow_pickle=True).get("m")
    assert (node.kind, node.n_params) == ("full", None)


def test_pickle_adapter_refused(tmp_path: Path) -> None:
    fake_full(tmp_path / "base")
    adapter = fake_adapter(tmp_path / "a", "base")
    (adapter / "adapter_model.safetensors").rename(adapter / "adapter_model.bin")
    with pytest.raises(AuditError, match="only pickle weight files .adapter_model.bin."):
        load_family(tmp_path)
    assert load_family(tmp_path, allow_pickle=True).get("a").kind == "lora"


def test_pickle_beside_safetensors_and_trainer_files_are_ignored(tmp_path: Path) -> None:
    model = fake_full(tmp_path / "m")
    (model / "pytorch_model.bin").write_bytes(b"x")
    (model / "training_args.bin").write_bytes(b"x")
    assert load_family(tmp_path).get("m").n_params == FULL_PARAMS


def test_remote_code_is_a_warning(tmp_path: Path) -> None:
    fake_full(tmp_path / "m", auto_map={"AutoModelForCausalLM": "modeling_x.XForCausalLM"})
    (warning,) = load_family(tmp_path).get("m").warnings
    assert "auto_map" in warning and "--trust-remote-code" in warning


def test_missing_tokenizer_is_a_warning(tmp_path: Path) -> None:
    fake_full(tmp_path / "base", tokenizer=False)
    fake_adapter(tmp_path / "a", "base")
    family = load_family(tmp_path)
    for name in ("base", "a"):
        assert "no tokenizer in this model or its ancestors" in family.get(name).warnings[-1]


def test_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(AuditError, match="no such family directory"):
        load_family(tmp_path / "nope")
