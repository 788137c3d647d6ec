"""Find the models under a family directory and check their files, without loading weights.

A directory with ``adapter_config.json`` is a PEFT adapter; one with ``config.json`` is a full
model; every ``*.gguf`` file is a GGUF model. Symlinks are followed (a family may link to
snapshots elsewhere); each real directory is visited once.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from auditkit.errors import AuditError
from auditkit.family.fingerprint import FileCache
from auditkit.family.weights import gguf_params, is_pickle_weight, safetensors_params
from auditkit.types import ModelKind

CONFIG, ADAPTER_CONFIG = "config.json", "adapter_config.json"
ADAPTER_WEIGHTS, ADAPTER_PICKLE = "adapter_model.safetensors", "adapter_model.bin"
SHARD_INDEX = "model.safetensors.index.json"
# Files besides weights that change what a model computes; the fingerprint covers them too.
TOKENIZER_FILES = (
    "tokenizer.json", "tokenizer_config.json", "tokenizer.model", "special_tokens_map.json",
    "vocab.json", "merges.txt", "added_tokens.json", "chat_template.jinja", "chat_template.json",
)
EXTRA_FILES = TOKENIZER_FILES + ("generation_config.json",)
TOKENIZER_MARKERS = ("tokenizer.json", "tokenizer_config.json", "tokenizer.model")


@dataclass(frozen=True)
class Candidate:
    """A model found on disk, before it has a name and a place in the lineage."""

    path: Path                              # the model directory or .gguf file (absolute)
    rel: str                                # POSIX path relative to the family directory
    kind: ModelKind
    files: tuple[tuple[str, Path], ...]     # (name in the model, file) the fingerprint covers
    n_params: int | None                    # None for pickle weights (not read)
    base_ref: str | None = None             # adapter_config base_model_name_or_path
    name_or_path: str | None = None         # config.json _name_or_path
    has_tokenizer: bool = False
    warnings: tuple[str, ...] = ()


def discover(root: Path, *, cache: FileCache, allow_pickle: bool = False,
             extra: tuple[Path, ...] = ()) -> list[Candidate]:
    """Every model under ``root`` plus the ``extra`` paths (manifest paths), in path order."""
    found: dict[str, Candidate] = {}
    for path in [*_walk(root), *extra]:
        real = os.path.realpath(path)
        if real in found:
            continue
        cand = classify(path, root, cache=cache, allow_pickle=allow_pickle)
        if cand is not None:
            found[real] = cand
    return sorted(found.values(), key=lambda c: c.rel)


def _walk(root: Path) -> list[Path]:
    """Directories and .gguf files under ``root`` (hidden entries skipped, links followed once)."""
    out, seen = [], set()
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
        real = os.path.realpath(dirpath)
        if real in seen:
            dirnames[:] = []
            continue
        seen.add(real)
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d != "__pycache__")
        out.append(Path(dirpath))
        out.extend(Path(dirpath, f) for f in sorted(filenames) if f.endswith(".gguf"))
    return out


def classify(path: Path, root: Path, *, cache: FileCache, allow_pickle: bool) -> Candidate | None:
    """The model at ``path``, None when it is not a model; an AuditError when it is a broken one."""
    rel = Path(os.path.relpath(path, root)).as_posix()
    if path.is_file():
        return _gguf(path, rel, cache) if path.name.endswith(".gguf") else None
    names = _listdir(path)
    if ADAPTER_CONFIG in names:
        return _adapter(path, rel, names, cache, allow_pickle)
    if CONFIG in names:
        return _full(path, rel, names, cache, allow_pickle)
    stray = sorted(n for n in names if n.endswith(".safetensors"))
    if stray:
        raise AuditError(path, f"holds weight files ({', '.join(stray[:3])}) but no config.json "
                         "(a full model needs config.json; an adapter needs adapter_config.json)")
    return None


def _listdir(path: Path) -> set[str]:
    try:
        return set(os.listdir(path))
    except OSError as exc:
        raise AuditError(path, f"cannot list the directory: {exc.strerror or exc}") from None


def _gguf(path: Path, rel: str, cache: FileCache) -> Candidate:
    n_params: int | None = cache.get(path, "n_params")
    if n_params is None:
        n_params = gguf_params(path)  # reading the tensor table takes seconds on a real model
        cache.put(path, "n_params", n_params)
    return Candidate(path=path, rel=rel, kind="gguf", files=(("model.gguf", path),),
                     n_params=n_params, has_tokenizer=True)


def _full(path: Path, rel: str, names: set[str], cache: FileCache,
          allow_pickle: bool) -> Candidate:
    config = read_json(path / CONFIG)
    weights = sorted(n for n in names if n.endswith(".safetensors"))
    if SHARD_INDEX in names:
        _check_shards(path, names)
    if weights:
        n_params = sum(_st_params(path / n, cache) for n in weights)
    else:
        weights = _pickles(path, names, allow_pickle, "weight files (*.safetensors)")
        n_params = None
    warnings = []
    if "auto_map" in config:
        warnings.append("config.json declares custom code (auto_map); it is never run unless "
                        "--trust-remote-code is given")
    ref = config.get("_name_or_path")
    return Candidate(
        path=path, rel=rel, kind="full", files=_files(path, names, [CONFIG, SHARD_INDEX, *weights]),
        n_params=n_params, name_or_path=ref if isinstance(ref, str) and ref else None,
        has_tokenizer=any(m in names for m in TOKENIZER_MARKERS), warnings=tuple(warnings),
    )


def _adapter(path: Path, rel: str, names: set[str], cache: FileCache,
             allow_pickle: bool) -> Candidate:
    config = read_json(path / ADAPTER_CONFIG)
    if ADAPTER_WEIGHTS in names:
        weights, n_params = [ADAPTER_WEIGHTS], _st_params(path / ADAPTER_WEIGHTS, cache)
    else:
        weights = _pickles(path, names & {ADAPTER_PICKLE}, allow_pickle,
                           f"adapter weights ({ADAPTER_WEIGHTS})")
        n_params = None
    ref = config.get("base_model_name_or_path")
    return Candidate(
        path=path, rel=rel, kind="lora", files=_files(path, names, [ADAPTER_CONFIG, *weights]),
        n_params=n_params, base_ref=ref if isinstance(ref, str) and ref else None,
        has_tokenizer=any(m in names for m in TOKENIZER_MARKERS),
    )


def _st_params(path: Path, cache: FileCache) -> int:
    # Cached with the file's hash: the header is cheap, but a cached count also marks it checked.
    n_params: int | None = cache.get(path, "n_params")
    if n_params is None:
        n_params = safetensors_params(path)
        cache.put(path, "n_params", n_params)
    return n_params


def _pickles(path: Path, names: set[str], allow_pickle: bool, expected: str) -> list[str]:
    """The pickle weight files to use, if the user allows them; else an error naming them."""
    pickles = sorted(n for n in names if is_pickle_weight(n))
    if not pickles:
        raise AuditError(path, f"no weight files: expected {expected}")
    if not allow_pickle:
        raise AuditError(path, f"only pickle weight files ({', '.join(pickles)}), which can run "
                         "code when loaded; convert them to safetensors, or pass --allow-pickle "
                         "if you trust them")
    return pickles


def _check_shards(path: Path, names: set[str]) -> None:
    index = read_json(path / SHARD_INDEX)
    weight_map = index.get("weight_map")
    if not isinstance(weight_map, dict):
        raise AuditError(path / SHARD_INDEX, "expected a 'weight_map' object", field="weight_map")
    missing = sorted({str(f) for f in weight_map.values()} - names)
    if missing:
        raise AuditError(path / SHARD_INDEX, f"names shard files that are missing: "
                         f"{', '.join(missing)}", field="weight_map")


def _files(path: Path, names: set[str], required: list[str]) -> tuple[tuple[str, Path], ...]:
    chosen = [n for n in required if n in names] + [n for n in EXTRA_FILES if n in names]
    return tuple((n, path / n) for n in sorted(set(chosen)))


def read_json(path: Path) -> dict[str, Any]:
    """A JSON object from ``path``; an AuditError naming the file when it is not one."""
    if not path.is_file():
        raise AuditError(path, "missing or not a file")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise AuditError(path, f"cannot read the file: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise AuditError(path, "not valid JSON (not UTF-8 text)") from None
    except json.JSONDecodeError as exc:
        raise AuditError(path, f"not valid JSON: {exc.msg}", line=exc.lineno) from None
    if not isinstance(data, dict):
        raise AuditError(path, f"expected a JSON object, found {type(data).__name__}")
    return data
