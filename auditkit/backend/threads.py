"""How many CPU threads torch should use on a machine that other processes may share.

Torch's default is one thread per core. On a 2-core machine where other processes already keep
the cores busy, OpenMP threads spin-wait for a descheduled sibling at every parallel op: a
64x32 @ 32x320 linear took 5,400 us with 2 threads against 14 us with 1 (load average 5), and a
tiny-family audit 284 s against 10 s. So the count is the cores left idle by everyone else.
"""
from __future__ import annotations

import os
import time
from pathlib import Path


def cpu_threads() -> int:
    """``OMP_NUM_THREADS`` when set; else every core, or fewer when other processes keep them
    busy (at least one).

    Training the demo adapters on the loaded machine: 14-20 s per step with 2 threads against
    2.8 s with 1 (SmolLM2-135M, batch 8 x ~65 tokens); 1 and 2 threads gave bitwise-identical
    gradients, and scoring gives identical outcomes, so the count is not part of any result key.
    """
    asked = os.environ.get("OMP_NUM_THREADS", "")
    if asked.isdigit() and int(asked) > 0:
        return int(asked)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    cores = cores or 1
    return max(1, min(cores, int(cores - _busy_cores_elsewhere() + 0.5)))


def _busy_cores_elsewhere(interval: float = 0.5) -> float:
    """Cores kept busy by other processes: sampled from /proc/stat while this one sleeps.

    The load average would count this process's own earlier work; elsewhere it is the fallback.
    """
    try:
        first = _busy_and_total_jiffies()
        time.sleep(interval)
        second = _busy_and_total_jiffies()
    except (OSError, ValueError, IndexError):
        return os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    busy, total = second[0] - first[0], second[1] - first[1]
    return (os.cpu_count() or 1) * busy / total if total > 0 else 0.0


def _busy_and_total_jiffies() -> tuple[int, int]:
    # cpu  user nice system idle iowait irq softirq steal ...
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    return sum(fields) - fields[3] - fields[4], sum(fields)
