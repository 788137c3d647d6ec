"""The ``hf`` backend: opening a model group (see ``auditkit.score.plan``) as a loaded
:class:`HFBackend`, and the cache key of its outcomes.

A full model is loaded once with every adapter of the group added to it; a GGUF member is
first dequantized (once, cached); a LoRA adapter whose parent is an adapter is loaded alone
through :func:`auditkit.backend.load.load_model`, which merges the chain. Leaving the context
frees the model before the next group is loaded.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch

from auditkit.backend.device import pick_device, pick_dtype
from auditkit.backend.group import add_adapter, load_base
from auditkit.backend.hf import HFBackend
from auditkit.backend.load import gguf_dir, load_model, load_tokenizer
from auditkit.backend.threads import cpu_threads
from auditkit.score.backends import ScoringConfig
from auditkit.score.plan import ModelGroup
from auditkit.score.settings import BackendSettings
from auditkit.types import Family

# Bump when a change to scoring changes results, so cached outcomes are not reused.
ENGINE_VERSION = "1"


def hf_scoring_config(device: str, dtype: str) -> ScoringConfig:
    """What the HF backend's outcomes depend on besides model and item.

    Device type and dtype change the numbers (bf16 on CUDA vs fp32 on CPU); batch sizes do not
    (batched scoring equals one-at-a-time scoring), nor do CPU threads, so they are not part of
    the key. The fields (and so the keys of existing caches) are those of auditkit 0.1.
    """
    return ScoringConfig(device=device, dtype=dtype, fields={
        "engine": ENGINE_VERSION, "device": device.split(":")[0], "dtype": dtype})


def resolved(settings: BackendSettings) -> tuple[str, str]:
    """The (device, dtype name) the settings resolve to on this machine."""
    device = pick_device(settings.device)
    return device, str(pick_dtype(device, settings.dtype)).removeprefix("torch.")


class GroupOpener:
    """The ``hf`` backend for one run: ``open(group)`` -> context manager yielding the group's
    backend; ``scoring_config`` names the device and dtype it resolved to."""

    def __init__(self, family: Family, settings: BackendSettings) -> None:
        self.family = family
        self.settings = settings
        self.device = pick_device(settings.device)
        self.dtype = pick_dtype(self.device, settings.dtype)
        self.scoring_config = hf_scoring_config(self.device,
                                                str(self.dtype).removeprefix("torch."))

    @contextmanager
    def open(self, group: ModelGroup) -> Iterator[HFBackend]:
        previous = torch.get_num_threads()
        if torch.device(self.device).type == "cpu":   # chosen per group: the load changes
            torch.set_num_threads(self.settings.threads or cpu_threads())
        try:
            backend = self._open(group)
            try:
                yield backend
            finally:
                backend.close()
        finally:
            torch.set_num_threads(previous)

    def _open(self, group: ModelGroup) -> HFBackend:
        node = self.family.get(group.base)
        s = self.settings
        if node.kind == "lora":  # an adapter on an adapter, or on a base outside the family
            loaded = load_model(self.family, node.name, device=self.device,
                                dtype=str(self.dtype).removeprefix("torch."),
                                allow_pickle=s.allow_pickle,
                                trust_remote_code=s.trust_remote_code)
            # merged: the group's requests name no adapter, which a PeftModel would read as
            # "the bare base" (its adapter disabled)
            return self._backend(loaded.model.merge_and_unload(), loaded.tokenizer)
        base_dir = gguf_dir(node) if node.kind == "gguf" else node.path
        model = load_base(base_dir, device=self.device, dtype=self.dtype,
                          trust_remote_code=s.trust_remote_code, allow_pickle=s.allow_pickle)
        for member, key in group.adapters:
            model = add_adapter(model, key, self.family.get(member).path,
                                allow_pickle=s.allow_pickle)
        tokenizer = load_tokenizer(self.family, node.name, trust_remote_code=s.trust_remote_code)
        return self._backend(model, tokenizer)

    def _backend(self, model: Any, tokenizer: Any) -> HFBackend:
        return HFBackend(model, tokenizer, device=self.device, dtype=self.dtype,
                         token_budget=self.settings.token_budget,
                         max_batch_size=self.settings.max_batch_size)
