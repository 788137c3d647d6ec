"""How a run loads and batches its models (torch-free, so the CLI can build it cheaply)."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

# Bump when a change to scoring changes results, so cached outcomes are not reused.
ENGINE_VERSION = "1"


@dataclass(frozen=True)
class BackendSettings:
    """Device, dtype and batching for every group of a run."""

    device: str | None = None        # None: CUDA when present, else CPU
    dtype: str | None = None         # None: bf16 on CUDA, fp32 on CPU
    token_budget: int | None = None  # tokens per batch; None: the device's default
    max_batch_size: int | None = None
    threads: int | None = None       # CPU threads; None: OMP_NUM_THREADS, else the idle cores
    allow_pickle: bool = False
    trust_remote_code: bool = False


def config_key(device: str, dtype: str) -> str:
    """The scoring configuration an outcome depends on besides model and item.

    Device type and dtype change the numbers (bf16 on CUDA vs fp32 on CPU); batch sizes do not
    (batched scoring equals one-at-a-time scoring), nor do CPU threads, so they are not part of
    the key.
    """
    spec = {"engine": ENGINE_VERSION, "device": device.split(":")[0], "dtype": dtype}
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:16]
