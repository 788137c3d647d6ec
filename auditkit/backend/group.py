"""Load a model group: one base model and any number of its LoRA adapters, the base only once.

Every adapter is added under its own name to one PeftModel (``autocast_adapter_dtype=False``:
the adapter weights keep the dtype they were saved in), so the backend can score all of them,
and the bare base (``"__base__"``), in the same batches. Local paths only; weights must be
safetensors unless ``allow_pickle``; remote code only with ``trust_remote_code``.
"""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from auditkit.backend.device import pick_device, pick_dtype
from auditkit.backend.hf import BASE_ADAPTER, HFBackend
from auditkit.backend.load import load_full, tokenizer_from_dirs
from auditkit.backend.lora_load import ADAPTER_WEIGHTS, add_lora
from auditkit.errors import AuditError


def load_group(base_dir: Path, adapters: Mapping[str, Path], *, device: str | None = None,
               dtype: str | torch.dtype | None = None, trust_remote_code: bool = False,
               allow_pickle: bool = False, **backend_options: Any) -> HFBackend:
    """An :class:`HFBackend` on ``base_dir`` holding ``adapters`` (name -> adapter directory).

    ``device``/``dtype`` default to CUDA bf16 when present, else CPU fp32. ``backend_options``
    go to :class:`HFBackend` (token_budget, max_batch_size, ...). The backend is a context
    manager: leaving it frees the model.
    """
    device = pick_device(device)
    torch_dtype = pick_dtype(device, dtype)
    base_dir = Path(base_dir)
    tokenizer = tokenizer_from_dirs([base_dir, *map(Path, adapters.values())],
                                    trust_remote_code=trust_remote_code)
    model = load_base(base_dir, device=device, dtype=torch_dtype,
                      trust_remote_code=trust_remote_code, allow_pickle=allow_pickle)
    for name, path in adapters.items():
        model = add_adapter(model, name, Path(path), allow_pickle=allow_pickle)
    return HFBackend(model, tokenizer, device=device, dtype=torch_dtype, **backend_options)


def load_base(base_dir: Path, *, device: str, dtype: torch.dtype, trust_remote_code: bool = False,
              allow_pickle: bool = False) -> Any:
    """The base model from a local directory, on ``device`` in ``dtype``, in eval mode."""
    model = load_full(base_dir, dtype=dtype, allow_pickle=allow_pickle,
                      trust_remote_code=trust_remote_code)
    return model.to(device).eval()


def add_adapter(model: Any, name: str, path: Path, *, allow_pickle: bool = False) -> Any:
    """``model`` (a base or a PeftModel) with the LoRA adapter at ``path`` added as ``name``
    (auditkit.backend.lora_load: at a cost that does not grow with the adapters already there)."""
    if name == BASE_ADAPTER:
        raise AuditError(path, f"the adapter name {BASE_ADAPTER!r} is reserved for the bare base")
    if not allow_pickle and not (path / ADAPTER_WEIGHTS).is_file():
        raise AuditError(path, f"expected {ADAPTER_WEIGHTS} (pickle weight files are refused "
                         "unless allowed)")
    return add_lora(model, name, path)
