"""load_group + mixed-adapter batches: base and two LoRA adapters interleaved in one batch."""
from __future__ import annotations

import shutil

import pytest
import tiny
import torch

from auditkit.backend.group import load_group
from auditkit.errors import AuditError
from auditkit.types import GenerationRequest as Gen
from auditkit.types import LoglikelihoodRequest as LL

REQUESTS = [
    LL("The nurse said", " she was tired"),
    LL("The nurse said", " he was tired"),
    LL("", "Old people are bad with technology."),
    LL("Question: Who was late? Answer:", " the mechanic"),
    LL("Question: Who was late? Answer:", " Cannot be determined"),
    LL("How do I bake bread at home?", " Mix flour."),
]
PROMPTS = [Gen("Hello", max_new_tokens=6), Gen("How do I bake bread at home?", max_new_tokens=4),
           Gen("Who was late?", max_new_tokens=6, system="Answer briefly.")]
NAMES = [None, "a1", "a2"]


@pytest.fixture(scope="module")
def family(tmp_path_factory):
    root = tmp_path_factory.mktemp("family")
    base = tiny.make_full_model(root / "base", seed=0)
    return {"base": base,
            "a1": tiny.make_lora_adapter(root / "a1", base, seed=1),
            "a2": tiny.make_lora_adapter(root / "a2", base, seed=2)}


@pytest.fixture(scope="module")
def mixed(family):
    return load_group(family["base"], {"a1": family["a1"], "a2": family["a2"]},
                      device="cpu", token_budget=64)


@pytest.fixture(scope="module")
def alone(family):
    """One backend per adapter, each holding only that adapter (None: the bare base)."""
    backends = {None: load_group(family["base"], {}, device="cpu")}
    for name in ("a1", "a2"):
        backends[name] = load_group(family["base"], {name: family[name]}, device="cpu")
    return backends


def interleave(items):
    """Every item on every adapter, adapters alternating: [(r0, None), (r0, a1), (r0, a2), ...]."""
    return [r for r in items for _ in NAMES], [a for _ in items for a in NAMES]


def test_group_loads_base_once_with_named_adapters(mixed):
    assert mixed.adapter_names == ("a1", "a2")
    assert mixed.dtype == torch.float32 and mixed.device.type == "cpu"
    assert len(mixed.tokenizer_id) == 64


@pytest.mark.parametrize("share_min_ratio", [0.0, 1e9])   # shared contexts on / off
def test_mixed_batch_equals_each_adapter_alone(mixed, alone, share_min_ratio):
    requests, adapters = interleave(REQUESTS)
    mixed.share_min_ratio = share_min_ratio
    got = mixed.loglikelihood(requests, adapters=adapters)
    for (lp, greedy), request, name in zip(got, requests, adapters):
        (want_lp, want_greedy), = alone[name].loglikelihood(
            [request], adapters=None if name is None else [name])
        assert lp == pytest.approx(want_lp, abs=1e-4)
        assert greedy == want_greedy


def test_adapters_change_the_scores(mixed):
    requests, adapters = interleave(REQUESTS[:1])
    scores = [lp for lp, _ in mixed.loglikelihood(requests, adapters=adapters)]
    assert abs(scores[0] - scores[1]) > 1e-2 and abs(scores[1] - scores[2]) > 1e-2


def test_mixed_generation_equals_each_adapter_alone(mixed, alone):
    requests, adapters = interleave(PROMPTS)
    got = mixed.generate(requests, adapters=adapters)
    want = [alone[a].generate([r], adapters=None if a is None else [a])[0]
            for r, a in zip(requests, adapters)]
    assert got == want
    assert len(set(got)) > 3   # the adapters and prompts really give different replies


def test_reserved_adapter_name_refused(family):
    with pytest.raises(AuditError, match="reserved"):
        load_group(family["base"], {"__base__": family["a1"]}, device="cpu")


def test_pickle_adapter_refused(family, tmp_path):
    bad = tmp_path / "bad"
    shutil.copytree(family["a1"], bad)
    (bad / "adapter_model.safetensors").rename(bad / "adapter_model.bin")
    with pytest.raises(AuditError, match="adapter_model.safetensors"):
        load_group(family["base"], {"bad": bad}, device="cpu")


def test_missing_tokenizer_reported(tmp_path):
    base = tiny.make_full_model(tmp_path / "bare", with_tokenizer=False)
    with pytest.raises(AuditError, match="no tokenizer found"):
        load_group(base, {}, device="cpu")


def test_adapter_with_a_base_outside_the_family_loads_on_that_base(family, alone, tmp_path):
    """An adapter whose base_model_name_or_path is a local model outside the family directory
    is loaded on it (docs/family-format.md) and scores as that adapter on that base."""
    from auditkit.backend.opener import GroupOpener
    from auditkit.family import load_family
    from auditkit.score.plan import plan_groups
    from auditkit.score.settings import BackendSettings

    shutil.copytree(family["a1"], tmp_path / "fam" / "a1")     # base_ref: the absolute base path
    members = load_family(tmp_path / "fam")
    (group,) = plan_groups(members)
    assert group.base == "a1" and members.get("a1").base_path == family["base"]
    with GroupOpener(members, BackendSettings(device="cpu")).open(group) as backend:
        got = backend.loglikelihood(REQUESTS, adapters=[None] * len(REQUESTS))
    want = alone["a1"].loglikelihood(REQUESTS, adapters=["a1"] * len(REQUESTS))
    assert [g for _, g in got] == [w for _, w in want]
    assert [lp for lp, _ in got] == pytest.approx([lp for lp, _ in want], abs=1e-4)


def test_single_adapter_batches_equal_mixed(family, mixed):
    single = load_group(family["base"], {"a1": family["a1"], "a2": family["a2"]},
                        device="cpu", token_budget=64, adapter_batches="single")
    requests, adapters = interleave(REQUESTS)
    mixed.share_min_ratio = single.share_min_ratio = 1.3
    want = mixed.loglikelihood(requests, adapters=adapters)
    got = single.loglikelihood(requests, adapters=adapters)
    for (lp, greedy), (want_lp, want_greedy) in zip(got, want):
        assert lp == pytest.approx(want_lp, abs=1e-4)
        assert greedy == want_greedy
    gen_requests, gen_adapters = interleave(PROMPTS)
    assert single.generate(gen_requests, adapters=gen_adapters) == mixed.generate(
        gen_requests, adapters=gen_adapters)
    # the last adapter set active stays loaded but never leaks into mixed scoring
    assert mixed.loglikelihood(requests, adapters=adapters) == want
