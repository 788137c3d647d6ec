"""auditkit.backend.lora_load: adapters added on an earlier adapter's LoRA layers give the same
model as peft's own load_adapter (configs, parameters, logits in mixed and single batches); other
configs go to peft; a weight file that does not fit its config is a clear error."""
from __future__ import annotations

import json
import shutil

import pytest
import tiny
import torch
from safetensors.torch import load_file, save_file

from auditkit.backend import lora_load
from auditkit.backend.group import add_adapter, load_base
from auditkit.errors import AuditError

SAME = ("a1", "a2", "a3", "a4")   # the targets of a1 (q, v), each with its own values


@pytest.fixture(scope="module")
def family(tmp_path_factory):
    root = tmp_path_factory.mktemp("lora-family")
    base = tiny.make_full_model(root / "base", seed=0)
    paths = {"base": base}
    for seed, (name, r) in enumerate(zip(SAME, (4, 4, 2, 8)), start=1):
        paths[name] = tiny.make_lora_adapter(root / name, base, seed=seed, r=r)
    # per-adapter values update_layer takes: dropout (eval mode must switch it off), rsLoRA scaling
    tiny._set_config_key(paths["a4"] / "adapter_config.json", "lora_dropout", 0.3)
    tiny._set_config_key(paths["a3"] / "adapter_config.json", "use_rslora", True)
    paths["other"] = tiny.make_lora_adapter(root / "other", base, seed=9,
                                            targets=("k_proj", "o_proj", "up_proj"))
    return paths


ORDER = ("a1", "a2", "other", "a3", "a4")


def peft_model(family, names=ORDER):
    model = load_base(family["base"], device="cpu", dtype=torch.float32)
    for name in names:
        model = lora_load._peft_load(model, name, family[name])
    return model


def new_model(family, names=ORDER):
    model = load_base(family["base"], device="cpu", dtype=torch.float32)
    for name in names:
        model = add_adapter(model, name, family[name])
    return model


@pytest.fixture(scope="module")
def both(family):
    return peft_model(family), new_model(family)


def logits(model, ids, adapter_names=None):
    with torch.no_grad():
        if adapter_names is None:
            return model(input_ids=ids).logits
        return model(input_ids=ids, adapter_names=adapter_names).logits


def test_fast_path_for_the_same_targets_peft_for_the_rest(family, monkeypatch):
    calls = []
    peft_load = lora_load._peft_load
    monkeypatch.setattr(lora_load, "_peft_load",
                        lambda model, name, path: calls.append(name) or peft_load(model, name, path))
    new_model(family)
    assert calls == ["a1", "other"]   # the first of its config, and the one with other targets


def test_same_configs_and_parameters_as_peft(both):
    want, got = both
    assert list(got.peft_config) == list(want.peft_config) == list(ORDER)
    for name in ORDER:
        assert got.peft_config[name] == want.peft_config[name]
    want_params, got_params = dict(want.named_parameters()), dict(got.named_parameters())
    assert want_params.keys() == got_params.keys()
    for key, param in want_params.items():
        assert torch.equal(got_params[key], param), key
        assert got_params[key].dtype == param.dtype
        assert got_params[key].requires_grad is param.requires_grad is False
    assert not any(m.training for m in got.modules())


def test_mixed_batches_equal_peft(both):
    want, got = both
    ids = torch.randint(0, 300, (12, 9), generator=torch.Generator().manual_seed(0))
    names = ["__base__", *ORDER, *ORDER, "__base__"]
    out = logits(got, ids, names)
    assert torch.equal(out, logits(want, ids, names))
    for row, name in enumerate(names[1:6], start=1):   # each adapter changes the logits
        assert (out[row] - out[0]).abs().max() > 1e-2, name


def test_single_adapter_batches_equal_peft(both):
    want, got = both
    ids = torch.randint(0, 300, (3, 7), generator=torch.Generator().manual_seed(1))
    for name in ORDER:
        want.set_adapter(name)
        got.set_adapter(name)
        assert torch.equal(logits(got, ids), logits(want, ids)), name
    want.set_adapter(ORDER[0])
    got.set_adapter(ORDER[0])


def corrupt(family, tmp_path, change):
    bad = tmp_path / "bad"
    shutil.copytree(family["a4"], bad)
    weights = load_file(bad / "adapter_model.safetensors")
    change(weights)
    save_file(weights, bad / "adapter_model.safetensors")
    return bad


A_KEY = "base_model.model.model.layers.1.self_attn.v_proj.lora_A.weight"


@pytest.mark.parametrize(("change", "message"), [
    (lambda w: w.pop(A_KEY), f"{A_KEY}: missing tensor"),
    (lambda w: w.update({A_KEY.replace("v_proj", "k_proj"): w[A_KEY].clone()}),
     f"{A_KEY.replace('v_proj', 'k_proj')}: unexpected tensor"),
    (lambda w: w.update({A_KEY: w[A_KEY][:3].clone()}), rf"{A_KEY}: expected shape \[8, 32\]"),
])
def test_corrupted_weights_named_by_file_and_key(family, tmp_path, change, message):
    bad = corrupt(family, tmp_path, change)
    model = new_model(family, ("a1",))
    with pytest.raises(AuditError, match=message) as info:
        add_adapter(model, "bad", bad)
    assert str(bad / "adapter_model.safetensors") in str(info.value)
    assert "bad" not in model.peft_config   # checked before the model is touched
    assert not any("bad" in key for key, _ in model.named_parameters())


def test_other_settings_go_to_peft(family, tmp_path, monkeypatch):
    """A config differing in a shared setting (here DoRA) is loaded by peft, never forced onto
    the template's layers."""
    dora = tmp_path / "dora"
    shutil.copytree(family["a1"], dora)
    config = json.loads((dora / "adapter_config.json").read_text())
    config["use_dora"] = True
    (dora / "adapter_config.json").write_text(json.dumps(config))
    model = new_model(family, ("a1",))
    calls = []
    peft_load = lora_load._peft_load
    monkeypatch.setattr(lora_load, "_peft_load",
                        lambda model, name, path: calls.append(name) or peft_load(model, name, path))
    add_adapter(model, "dora", dora)
    assert calls == ["dora"]
    assert "dora" in model.base_model.model.model.layers[0].self_attn.q_proj.lora_variant
