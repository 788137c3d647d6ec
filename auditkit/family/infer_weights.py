"""The weights the lineage inference reads: tensor tables of full models, LoRA effective deltas.

Nothing is loaded whole: a full model is a table ``tensor name -> (file, shape)`` built from the
safetensors headers (shards included), read later one row chunk at a time; a LoRA adapter is its
A and B matrices and the scale PEFT applies, so its effective delta for a base weight W (out, in)
is ``scale * B @ A`` with B (out, r), A (r, in) and ``scale = lora_alpha / r``
(``lora_alpha / sqrt(r)`` with ``use_rslora``; peft.tuners.lora.layer.LoraLayer.update_layer),
``alpha_pattern`` / ``rank_pattern`` overriding alpha and r per module. Pickle files are never
read: a member without safetensors weights cannot take part.
"""
from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from auditkit.errors import AuditError
from auditkit.family.discover import ADAPTER_CONFIG, ADAPTER_WEIGHTS, CONFIG, read_json
from auditkit.family.weights import _read_header, safetensors_params

# base_model.model.<module path>.lora_A[.<adapter name>].weight
LORA_KEY = re.compile(r"^base_model\.model\.(?P<module>.+)\.lora_(?P<ab>[AB])(?:\.[^.]+)?\.weight$")


NUMPY_DTYPES = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "BF16": "<u2"}


@dataclass(frozen=True)
class TensorRef:
    """Where a tensor's bytes are: read with :func:`read_rows`, never the whole file."""

    file: Path
    shape: tuple[int, ...]
    dtype: str                # safetensors dtype: F64, F32, F16 or BF16
    offset: int               # absolute byte offset of its data in the file


@dataclass(frozen=True)
class FullWeights:
    """A full model's matrices (2-D float tensors) and the key of its architecture."""

    name: str
    path: Path
    tensors: Mapping[str, TensorRef]
    arch: str                 # model_type and matrix names and shapes, hashed
    arch_label: str           # for messages: "llama, 211 matrices"
    vocab: str | None         # hash of tokenizer.json's vocabulary (None: no tokenizer.json)


@dataclass(frozen=True)
class LoraModule:
    a: TensorRef              # (r, in)
    b: TensorRef              # (out, r)
    shape: tuple[int, int]    # the base weight's (out, in)
    scale: float
    fan_in_fan_out: bool      # the base stores W transposed (GPT-2's Conv1D)


@dataclass(frozen=True)
class LoraWeights:
    """A LoRA adapter: base weight name -> its A, B and scale, all in one file."""

    name: str
    path: Path
    file: Path
    modules: Mapping[str, LoraModule]


MemberWeights = FullWeights | LoraWeights


def read_member(name: str, path: Path, kind: str) -> MemberWeights:
    """The weight table of a discovered member; AuditError naming the file when unreadable."""
    if kind not in ("full", "lora"):
        raise AuditError(path, f"{kind} members are not read by the lineage inference (only "
                         "safetensors full models and LoRA adapters)")
    return read_lora(name, path) if kind == "lora" else read_full(name, path)


def read_full(name: str, path: Path) -> FullWeights:
    files = sorted(path.glob("*.safetensors"))
    if not files:
        raise AuditError(path, "no safetensors weight files (pickle weights are never read by "
                         "the lineage inference)")
    tensors: dict[str, TensorRef] = {}
    for file in files:
        tensors.update((k, t) for k, t in table(file).items() if len(t.shape) == 2)
    if not tensors:
        raise AuditError(files[0], "no floating-point matrices in the weight files")
    config = read_json(path / CONFIG)
    return FullWeights(name, path, tensors, *_arch_key(config, tensors, path))


def table(file: Path) -> dict[str, TensorRef]:
    """The floating-point tensors of a safetensors file (header checked by weights.py)."""
    safetensors_params(file)              # a truncated or malformed file fails here, named
    header, data_len = _read_header(file)
    start = file.stat().st_size - data_len
    return {key: TensorRef(file, tuple(int(d) for d in info["shape"]), info["dtype"],
                           start + int(info["data_offsets"][0]))
            for key, info in header.items()
            if key != "__metadata__" and info.get("dtype") in NUMPY_DTYPES}


def read_rows(ref: TensorRef, start: int = 0, stop: int | None = None) -> np.ndarray:
    """Rows ``start:stop`` of a tensor as float64 (rows, *shape[1:]), read from disk alone."""
    stop = ref.shape[0] if stop is None else stop
    row = math.prod(ref.shape[1:])
    width = np.dtype(NUMPY_DTYPES[ref.dtype]).itemsize
    try:
        with ref.file.open("rb") as fh:
            fh.seek(ref.offset + start * row * width)
            raw = fh.read((stop - start) * row * width)
    except OSError as exc:
        raise AuditError(ref.file, f"cannot read the weight file: {exc.strerror or exc}") from None
    values = np.frombuffer(raw, dtype=NUMPY_DTYPES[ref.dtype])
    if ref.dtype == "BF16":               # bfloat16 is the top half of a float32
        values = (values.astype(np.uint32) << 16).view(np.float32)
    return values.astype(np.float64).reshape((stop - start, *ref.shape[1:]))


def _arch_key(config: dict[str, Any], tensors: Mapping[str, TensorRef],
              path: Path) -> tuple[str, str, str | None]:
    """(hash, label, vocabulary hash) of what must match for two weights to be compared: the
    config's model_type, every matrix's name and shape; and the tokenizer's vocabulary."""
    model_type = str(config.get("model_type", "?"))
    shapes = sorted((k, t.shape) for k, t in tensors.items())
    digest = hashlib.sha256(json.dumps([model_type, shapes]).encode()).hexdigest()
    return digest, f"{model_type}, {len(shapes)} matrices", _vocab_digest(path)


def _vocab_digest(path: Path) -> str | None:
    """Hash of tokenizer.json's vocabulary and merges (None without one)."""
    file = path / "tokenizer.json"
    if not file.is_file():
        return None
    model = read_json(file).get("model")
    if not isinstance(model, dict):
        raise AuditError(file, "expected a 'model' object", field="model")
    body = json.dumps([model.get("vocab"), model.get("merges")], sort_keys=True)
    return hashlib.sha256(body.encode()).hexdigest()


def read_lora(name: str, path: Path) -> LoraWeights:
    config = read_json(path / ADAPTER_CONFIG)
    _check_lora_config(path / ADAPTER_CONFIG, config)
    file = path / ADAPTER_WEIGHTS
    if not file.is_file():
        raise AuditError(path, f"no {ADAPTER_WEIGHTS} (pickle adapters are never read by the "
                         "lineage inference)")
    pairs: dict[str, dict[str, TensorRef]] = {}
    for key, ref in table(file).items():
        match = LORA_KEY.match(key)
        if match:
            pairs.setdefault(match["module"], {})[match["ab"]] = ref
    modules = {f"{module}.weight": _module(file, config, module, ab)
               for module, ab in sorted(pairs.items())}
    if not modules:
        raise AuditError(file, "no LoRA matrices (expected keys like "
                         "base_model.model.<module>.lora_A.weight)")
    return LoraWeights(name, path, file, modules)


def _check_lora_config(file: Path, config: dict[str, Any]) -> None:
    peft_type = config.get("peft_type", "LORA")
    if peft_type != "LORA":
        raise AuditError(file, f"peft_type {peft_type!r}: only LORA adapters are read",
                         field="peft_type")
    if config.get("use_dora"):
        raise AuditError(file, "DoRA adapters (use_dora) are not read: their magnitude "
                         "vector rescales the base weight", field="use_dora")
    for key in ("r", "lora_alpha"):
        if not isinstance(config.get(key), (int, float)) or config[key] <= 0:
            raise AuditError(file, f"expected a positive number, found {config.get(key)!r}",
                             field=key)


def _module(file: Path, config: dict[str, Any], module: str,
            ab: Mapping[str, TensorRef]) -> LoraModule:
    if set(ab) != {"A", "B"}:
        raise AuditError(file, f"module {module!r} has lora_{''.join(ab)} but not both A and B")
    a_shape, b_shape = ab["A"].shape, ab["B"].shape
    if len(a_shape) != 2 or len(b_shape) != 2 or a_shape[0] != b_shape[1]:
        raise AuditError(file, f"module {module!r}: lora_A {list(a_shape)} and lora_B "
                         f"{list(b_shape)} do not multiply (expected (r, in) and (out, r))")
    r = _pattern(config.get("rank_pattern"), module, config["r"])
    alpha = _pattern(config.get("alpha_pattern"), module, config["lora_alpha"])
    scale = alpha / math.sqrt(r) if config.get("use_rslora") else alpha / r
    fan = bool(config.get("fan_in_fan_out"))
    shape = (a_shape[1], b_shape[0]) if fan else (b_shape[0], a_shape[1])
    return LoraModule(ab["A"], ab["B"], shape, float(scale), fan)


def _pattern(patterns: object, module: str, default: float) -> float:
    """PEFT's per-module override: the first key that matches the module's name's end."""
    for key, value in (patterns or {}).items() if isinstance(patterns, dict) else ():
        if re.match(rf"(.*\.)?({key})$", module):
            return float(value)
    return float(default)


def lora_delta(lora: LoraWeights, weight: str) -> np.ndarray:
    """The effective delta (out, in) float64 of ``weight``: scale * B @ A (transposed with
    fan_in_fan_out)."""
    mod = lora.modules[weight]
    a, b = read_rows(mod.a), read_rows(mod.b)              # (r, in), (out, r)
    delta: np.ndarray = mod.scale * (b @ a)
    return np.ascontiguousarray(delta.T) if mod.fan_in_fan_out else delta


def fits(lora: LoraWeights, full: FullWeights) -> bool:
    """Whether every weight the adapter changes is a matrix of ``full`` of the same shape."""
    return all(w in full.tensors and full.tensors[w].shape == m.shape
               for w, m in lora.modules.items())
