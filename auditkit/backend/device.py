"""Device and dtype choice, and the batch runner that finds what fits in GPU memory.

The runner cuts length-sorted work into batches of at most ``token_budget`` padded tokens
(rows x longest length). On CUDA it also catches out-of-memory: it frees the cache, halves the
batch and retries, and remembers the largest row count that may be tried per length bucket, so
one run settles on the batch size the card holds and an out-of-memory never ends it.
"""
from __future__ import annotations

import gc
from collections.abc import Callable, Sequence
from typing import TypeVar

import torch

from auditkit.errors import AuditError

R = TypeVar("R")

DTYPES: dict[str, torch.dtype] = {
    "float32": torch.float32, "fp32": torch.float32,
    "bfloat16": torch.bfloat16, "bf16": torch.bfloat16,
    "float16": torch.float16, "fp16": torch.float16,
}
DEFAULT_TOKEN_BUDGET = {"cpu": 2048, "cpu-generate": 8192, "cuda": 32768}


def pick_device(requested: str | None = None) -> str:
    """``requested`` if usable ("cpu", "cuda", "cuda:1", "mps"), else "cuda" when present, else "cpu"."""
    if requested is None:
        return "cuda" if torch.cuda.is_available() else "cpu"
    try:
        device = torch.device(requested)
    except (RuntimeError, ValueError) as exc:
        raise AuditError("--device", f"{requested!r} is not a device ({exc}); "
                         "expected cpu, cuda, cuda:N or mps") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise AuditError("--device", f"{requested!r} was asked for but CUDA is not available")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise AuditError("--device", f"{requested!r} was asked for but MPS is not available")
    return requested


def pick_dtype(device: str, requested: str | torch.dtype | None = None) -> torch.dtype:
    """``requested`` (a dtype or a name such as "bf16"), else bf16 on CUDA and fp32 elsewhere.

    fp32 on CPU because bf16 matmuls are several times slower there (DESIGN, facts checked).
    """
    if isinstance(requested, torch.dtype):
        return requested
    if requested is not None:
        if requested.lower() not in DTYPES:
            raise AuditError("--dtype", f"{requested!r} is not a dtype; expected one of "
                             f"{', '.join(sorted(DTYPES))}")
        return DTYPES[requested.lower()]
    if torch.device(device).type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.float32


def default_token_budget(device: str, kind: str = "loglikelihood") -> int:
    """Padded tokens per batch for ``kind`` ("loglikelihood" or "generate").

    CPU, log-likelihood: 2,048 (17 bias probes x 4 members, 1 thread: 123.2 s at 1,024, 115.9 s
    at 2,048, 116.6 s at 4,096, 122.6 s at 8,192: wider batches pad more). CPU, generation:
    8,192, because each decoding step is a matmul as wide as the batch (30 prompts x 4 members,
    2 threads: 36.7 s at 2,048, 26.3 s at 8,192; identical replies). CUDA: 32,768, lowered on
    out-of-memory.
    """
    if torch.device(device).type == "cuda":
        return DEFAULT_TOKEN_BUDGET["cuda"]
    return DEFAULT_TOKEN_BUDGET["cpu-generate" if kind == "generate" else "cpu"]


def length_bucket(length: int) -> int:
    """The power of two at or above ``length``: batches of similar length share what fit."""
    return 1 << max(0, length - 1).bit_length()


class BatchRunner:
    """Runs ``fn`` over length-sorted items in batches bounded by a token budget.

    Item i is one sequence of (at most) ``lengths[i]`` tokens; a batch of n items starting at i
    costs n x lengths[i] padded tokens, so ``lengths`` must be sorted descending.
    ``adaptive`` (CUDA): on out-of-memory halve the batch and remember the cap for that length
    bucket and every longer one.
    """

    def __init__(self, *, token_budget: int, max_batch_size: int | None = None,
                 adaptive: bool = False,
                 oom_errors: tuple[type[BaseException], ...] = (torch.cuda.OutOfMemoryError,)):
        if token_budget < 1:
            raise ValueError(f"token_budget must be positive, got {token_budget}")
        self.token_budget = token_budget
        self.max_batch_size = max_batch_size
        self.adaptive = adaptive
        self.oom_errors = oom_errors
        self.caps: dict[int, int] = {}   # length bucket -> most rows worth trying there
        self.n_oom = 0

    def cap(self, length: int) -> int | None:
        """The most rows a batch of ``length``-token sequences may have, None if unbounded."""
        bucket = length_bucket(length)
        known = [c for b, c in self.caps.items() if b <= bucket]
        limits = known + ([self.max_batch_size] if self.max_batch_size else [])
        return min(limits) if limits else None

    def run(self, lengths: Sequence[int], fn: Callable[[list[int]], list[R]]) -> list[R]:
        """``fn(indices)`` returns one result per index; results come back in item order."""
        results: list[R] = []
        start = 0
        while start < len(lengths):
            stop = self._batch_end(lengths, start)
            out = self._try(fn, list(range(start, stop)), lengths[start])
            if out is None:
                continue  # out of memory: the cap is lower now, cut the batch again
            results.extend(out)
            start = stop
        return results

    def _batch_end(self, lengths: Sequence[int], start: int) -> int:
        """One past the last item of the batch that starts at ``start`` (at least one item)."""
        cap = self.cap(lengths[start])
        n_rows = max(1, self.token_budget // max(1, lengths[start]))
        n_rows = min(n_rows, cap) if cap is not None else n_rows
        return min(len(lengths), start + n_rows)

    def _try(self, fn: Callable[[list[int]], list[R]], batch: list[int],
             longest: int) -> list[R] | None:
        if not self.adaptive:
            return fn(batch)
        try:
            return fn(batch)
        except self.oom_errors:
            if len(batch) == 1:
                raise AuditError("device", f"out of GPU memory with a single sequence of "
                                 f"{longest} tokens; use a smaller model or a shorter probe") from None
        # Outside the except block, so the traceback's tensors can be freed.
        self.n_oom += 1
        self.caps[length_bucket(longest)] = max(1, len(batch) // 2)
        free_memory()
        return None


def free_memory() -> None:
    """Drop unreachable tensors and hand cached CUDA blocks back to the allocator."""
    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
