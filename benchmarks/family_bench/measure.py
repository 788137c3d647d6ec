"""What every benchmark worker measures: section timings, matmul FLOPs, tokens, peak memory.

Torch only (no auditkit), so the lm-evaluation-harness worker uses it too. FLOPs are counted by
a global forward hook on every ``nn.Linear`` (2 x in x out per input row): every projection of
every layer, LoRA's A and B included, and the vocabulary projection only at the rows that were
really projected. Not counted: attention's score and value products (QK^T, AV; a few percent
at these sequence lengths), norms, activations, softmax.
"""
from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


class Meter:
    """Counters filled by :func:`install_hooks` and section timers filled by the workers."""

    def __init__(self) -> None:
        self.linear_flops = 0          # 2 * in * out * rows over every nn.Linear call
        self.body_tokens = 0           # rows through the input embedding (padding included)
        self.head_rows = 0             # rows projected to the vocabulary
        self.forwards = 0              # model forward passes (input-embedding calls)
        self.vocab = 0                 # the last input embedding's size: the lm head has it
        self.seconds: dict[str, float] = {}
        self.cpu: dict[str, float] = {}             # section -> this process's CPU seconds
        self.counts: dict[str, int] = {}
        self.work: dict[str, dict[str, int]] = {}   # section -> counters added during it

    def hook(self, module: Any, args: tuple, output: Any) -> None:
        import torch

        if isinstance(module, torch.nn.Embedding) and module.num_embeddings >= 256:
            self.vocab = module.num_embeddings
            self.body_tokens += args[0].numel()
            self.forwards += 1
        elif isinstance(module, torch.nn.Linear):
            rows = args[0].numel() // module.in_features
            self.linear_flops += 2 * module.in_features * module.out_features * rows
            if module.out_features == self.vocab:
                self.head_rows += rows

    @contextmanager
    def section(self, name: str) -> Iterator[None]:
        """Time a section, and attribute the FLOPs and tokens counted meanwhile to it."""
        start, cpu, before = time.perf_counter(), time.process_time(), self._totals()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - start
            self.cpu[name] = self.cpu.get(name, 0.0) + time.process_time() - cpu
            done = self.work.setdefault(name, {k: 0 for k in before})
            for key, value in self._totals().items():
                done[key] += value - before[key]

    def _totals(self) -> dict[str, int]:
        return {"linear_flops": self.linear_flops, "body_tokens": self.body_tokens,
                "head_rows": self.head_rows, "forwards": self.forwards}

    def timed(self, name: str, fn: Callable) -> Callable:
        """``fn`` wrapped so that its calls add to section ``name`` (and count its calls)."""
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            self.counts[name] = self.counts.get(name, 0) + 1
            with self.section(name):
                return fn(*args, **kwargs)
        return wrapper

    def as_dict(self) -> dict:
        return {"linear_flops": self.linear_flops, "body_tokens": self.body_tokens,
                "head_rows": self.head_rows, "forwards": self.forwards,
                "seconds": {k: round(v, 4) for k, v in self.seconds.items()},
                "cpu_seconds": {k: round(v, 4) for k, v in self.cpu.items()},
                "counts": dict(self.counts), "work": self.work}


def install_hooks(meter: Meter) -> Any:
    """Count every module forward of every model from now on (returns the hook handle)."""
    import torch

    return torch.nn.modules.module.register_module_forward_hook(meter.hook)


def peak_rss_kb() -> int:
    """This process's peak resident set size (VmHWM), in KiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return -1


def write_json(path: str | Path, data: dict) -> None:
    Path(path).write_text(json.dumps(data, indent=2, default=str))


def matmul_peak(n: int = 2048, seconds: float = 6.0) -> dict:
    """Best fp32 GFLOP/s of an n x n @ n x n matmul repeated for about ``seconds``."""
    import torch

    a, b = torch.randn(n, n), torch.randn(n, n)
    torch.mm(a, b)                                   # warm-up
    best, start, reps = 0.0, time.perf_counter(), 0
    while time.perf_counter() - start < seconds:
        t0 = time.perf_counter()
        torch.mm(a, b)
        best = max(best, 2 * n**3 / (time.perf_counter() - t0) / 1e9)
        reps += 1
    return {"n": n, "reps": reps, "best_gflops": round(best, 1),
            "threads": torch.get_num_threads(), "torch": torch.__version__}
