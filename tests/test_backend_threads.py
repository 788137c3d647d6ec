"""CPU thread choice: every core when idle, fewer when other processes keep cores busy."""
from __future__ import annotations

import os

import pytest

from auditkit.backend import threads


def test_real_machine_gives_between_one_and_the_cores() -> None:
    assert 1 <= threads.cpu_threads() <= len(os.sched_getaffinity(0))


@pytest.mark.parametrize("busy, want", [(0.0, 4), (0.4, 4), (1.6, 2), (2.5, 2), (3.6, 1), (9, 1)])
def test_threads_are_the_idle_cores_rounded(monkeypatch, busy, want) -> None:
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2, 3})
    monkeypatch.setattr(threads, "_busy_cores_elsewhere", lambda: busy)
    assert threads.cpu_threads() == want


def test_busy_cores_read_from_proc_stat(monkeypatch) -> None:
    samples = iter([(100, 1000), (150, 1100)])      # 50 of 100 jiffies busy
    monkeypatch.setattr(threads, "_busy_and_total_jiffies", lambda: next(samples))
    monkeypatch.setattr(os, "cpu_count", lambda: 4)
    assert threads._busy_cores_elsewhere(interval=0) == pytest.approx(2.0)


def test_omp_num_threads_wins(monkeypatch) -> None:
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    monkeypatch.setattr(threads, "_busy_cores_elsewhere", lambda: 0.0)
    assert threads.cpu_threads() == 3
