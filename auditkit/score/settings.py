"""How a run loads, batches and runs its models (torch-free, so the CLI can build it cheaply)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class BackendSettings:
    """Backend, executor, device, dtype and batching for every group of a run.

    ``backend`` and ``executor`` name registered ones (:mod:`auditkit.score.backends`,
    :mod:`auditkit.score.executors`); the other fields are the ``hf`` backend's options.
    """

    backend: str = "hf"
    executor: str = "local"
    device: str | None = None        # None: CUDA when present, else CPU
    dtype: str | None = None         # None: bf16 on CUDA, fp32 on CPU
    token_budget: int | None = None  # tokens per batch; None: the device's default
    max_batch_size: int | None = None
    threads: int | None = None       # CPU threads; None: OMP_NUM_THREADS, else the idle cores
    allow_pickle: bool = False
    trust_remote_code: bool = False
    # the ``ray`` executor's (auditkit.score.executor_ray): the cluster (None: RAY_ADDRESS, else
    # a local one), and what each group asks for (None: 1 GPU when scoring on CUDA, else 0 GPUs
    # and ``threads`` or 1 CPUs)
    ray_address: str | None = None
    ray_cpus_per_group: float | None = None
    ray_gpus_per_group: float | None = None
