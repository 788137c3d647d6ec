"""Load any family member as (model, tokenizer): a full model, an adapter on its base, a GGUF file.

Nothing is downloaded (``local_files_only``), remote code runs only with ``trust_remote_code``,
pickle weights load only with ``allow_pickle``. Errors from transformers, peft and safetensors
become :class:`AuditError` naming the path.
"""
from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError

from auditkit.backend import gguf as gguf_backend
from auditkit.backend.device import pick_dtype
from auditkit.errors import AuditError
from auditkit.family import external_base
from auditkit.family.discover import ADAPTER_WEIGHTS, CONFIG, TOKENIZER_MARKERS, read_json
from auditkit.paths import cache_dir
from auditkit.types import Family, ModelNode

LOAD_ERRORS = (OSError, ValueError, RuntimeError, KeyError, ImportError, SafetensorError)


@dataclass(frozen=True)
class LoadedModel:
    model: Any          # a transformers PreTrainedModel, or a peft PeftModel for an adapter
    tokenizer: Any
    node: ModelNode


@dataclass(frozen=True)
class _Options:
    dtype: torch.dtype
    allow_pickle: bool
    trust_remote_code: bool


def load_model(family: Family, name: str, *, device: str = "cpu", dtype: str | None = None,
               allow_pickle: bool = False, trust_remote_code: bool = False) -> LoadedModel:
    """Load member ``name`` in eval mode on ``device``; ``dtype`` None: the device's default
    (bf16 on CUDA, fp32 elsewhere)."""
    node = _member(family, name)
    opts = _Options(pick_dtype(device, dtype), allow_pickle, trust_remote_code)
    model = _load_weights(family, node, opts)
    tokenizer = load_tokenizer(family, name, trust_remote_code=trust_remote_code)
    with _translated(node.path, "could not move the model to " + device):
        model = model.to(device)
    return LoadedModel(model=model.eval(), tokenizer=tokenizer, node=node)


def load_tokenizer(family: Family, name: str, *, trust_remote_code: bool = False) -> Any:
    """The member's own tokenizer, else the nearest ancestor's (a GGUF file carries its own)."""
    searched = []
    for node in [_member(family, name)] + [family.get(a) for a in family.ancestors(name)]:
        if node.kind == "gguf":
            return _gguf_tokenizer(node, trust_remote_code)
        searched.append(node.path)
        if _has_tokenizer(node.path):
            return _tokenizer_from(node.path, trust_remote_code)
        base = external_base(node, family.root) if node.parent is None else None
        if base is not None:
            searched.append(base)
            if _has_tokenizer(base):
                return _tokenizer_from(base, trust_remote_code)
    where = ", ".join(str(p) for p in searched)
    raise AuditError(family.get(name).path, f"no tokenizer for model {name!r}: none of {where} "
                     f"holds tokenizer files ({', '.join(TOKENIZER_MARKERS)})")


def _member(family: Family, name: str) -> ModelNode:
    try:
        return family.get(name)
    except KeyError:
        raise AuditError(family.root, f"no model named {name!r} in the family (members: "
                         f"{', '.join(family.names)})") from None


def _load_weights(family: Family, node: ModelNode, opts: _Options) -> Any:
    if node.kind == "full":
        return _load_full(node.path, opts)
    if node.kind == "gguf":
        return _load_full(gguf_dir(node), opts)
    return _load_adapter(family, node, opts)


def load_full(path: Path, *, dtype: torch.dtype, allow_pickle: bool = False,
              trust_remote_code: bool = False) -> Any:
    """A full model directory's weights (on the CPU), with every check of :func:`load_model`."""
    return _load_full(path, _Options(dtype, allow_pickle, trust_remote_code))


def _load_full(path: Path, opts: _Options) -> Any:
    from transformers import AutoModelForCausalLM

    config = read_json(path / CONFIG)
    if "auto_map" in config and not opts.trust_remote_code:
        raise AuditError(path / CONFIG, "declares custom model code (auto_map); auditkit does "
                         "not run it unless --trust-remote-code is given", field="auto_map")
    if not any(path.glob("*.safetensors")) and not opts.allow_pickle:
        raise AuditError(path, "no safetensors weights; pickle weight files load only with "
                         "--allow-pickle")
    kwargs: dict[str, Any] = {"local_files_only": True, "dtype": opts.dtype,
                              "trust_remote_code": opts.trust_remote_code}
    if not opts.allow_pickle:
        kwargs["use_safetensors"] = True
    with _translated(path, "could not load the model"):
        return AutoModelForCausalLM.from_pretrained(str(path), **kwargs)


def _load_adapter(family: Family, node: ModelNode, opts: _Options) -> Any:
    """The adapter on its base; a base that is itself an adapter is merged into its own base."""
    from peft import PeftModel

    if node.parent is not None:
        base = _load_weights(family, family.get(node.parent), opts)
        if isinstance(base, PeftModel):
            base = base.merge_and_unload()
    else:
        base = _load_full(_external_base_or_fail(family, node), opts)
    if not (node.path / ADAPTER_WEIGHTS).is_file() and not opts.allow_pickle:
        raise AuditError(node.path, f"no {ADAPTER_WEIGHTS}; pickle adapter weights load only "
                         "with --allow-pickle")
    with _translated(node.path, "could not load the adapter"):
        return PeftModel.from_pretrained(base, str(node.path), is_trainable=False,
                                         local_files_only=True)


def _external_base_or_fail(family: Family, node: ModelNode) -> Path:
    base = external_base(node, family.root)
    if base is None:
        ref = node.base_ref
        raise AuditError(node.path, f"adapter base {ref!r} is not a member of the family nor a "
                         "local directory (auditkit never downloads models): put the base model "
                         "in the family directory, or give this adapter's parent in family.yaml")
    return base


def gguf_dir(node: ModelNode) -> Path:
    """The GGUF member dequantized to a full fp32 model, converted once per fingerprint."""
    out = cache_dir() / "gguf" / node.fingerprint
    if (out / CONFIG).is_file() and any(out.glob("*.safetensors")):
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    with _translated(node.path, "could not convert the GGUF file"):
        return gguf_backend.dequantize_gguf(node.path, out)


def _gguf_tokenizer(node: ModelNode, trust_remote_code: bool) -> Any:
    from transformers import AutoTokenizer

    converted = cache_dir() / "gguf" / node.fingerprint
    if _has_tokenizer(converted):
        return _tokenizer_from(converted, trust_remote_code)
    with _translated(node.path, "could not read the tokenizer from the GGUF file"):
        return AutoTokenizer.from_pretrained(str(node.path.parent), gguf_file=node.path.name,
                                             local_files_only=True)


def tokenizer_from_dirs(dirs: list[Path], *, trust_remote_code: bool = False) -> Any:
    """The tokenizer of the first directory in ``dirs`` that holds one."""
    for directory in dirs:
        if _has_tokenizer(directory):
            return _tokenizer_from(directory, trust_remote_code)
    raise AuditError(dirs[0], "no tokenizer found: none of "
                     f"{', '.join(str(d) for d in dirs)} holds tokenizer files "
                     f"({', '.join(TOKENIZER_MARKERS)})")


def _has_tokenizer(path: Path) -> bool:
    return path.is_dir() and any((path / m).is_file() for m in TOKENIZER_MARKERS)


def _tokenizer_from(path: Path, trust_remote_code: bool) -> Any:
    from transformers import AutoTokenizer

    with _translated(path, "could not load the tokenizer"):
        return AutoTokenizer.from_pretrained(str(path), local_files_only=True,
                                             trust_remote_code=trust_remote_code)


@contextlib.contextmanager
def _translated(path: Path, what: str) -> Iterator[None]:
    """Turn a library's load error into an AuditError naming ``path`` (out-of-memory passes)."""
    try:
        yield
    except (AuditError, torch.OutOfMemoryError):
        raise
    except (*LOAD_ERRORS, json.JSONDecodeError) as exc:
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise AuditError(path, f"{what}: {detail}") from None
