"""Running the scopes of an analysis on several CPU cores.

Every scope (a probe, a category, the pool) is analysed on its own, with a seed of its own, so
the tables do not depend on how many workers ran them. Workers are forked processes: they
inherit the pooled failure matrix instead of receiving a copy of it. Where fork is not
available (or one worker is asked for) the scopes run one after the other in this process.
"""
from __future__ import annotations

import multiprocessing as mp
from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

_TASK: Callable[[int], object] | None = None     # what a forked worker runs, by item index


def _run(index: int) -> object:
    assert _TASK is not None
    return _TASK(index)


def map_scopes(task: Callable[[T], R], items: Sequence[T], *, workers: int = 1,
               weights: Sequence[float] | None = None) -> list[R]:
    """[task(x) for x in items], on up to ``workers`` forked processes.

    ``weights`` (e.g. items per scope) start the largest first, so that the last one to
    finish is a small one; results keep the order of ``items``.
    """
    global _TASK
    n = min(workers, len(items))
    if n <= 1 or "fork" not in mp.get_all_start_methods():
        return [task(x) for x in items]
    order = sorted(range(len(items)), key=lambda j: -(weights[j] if weights else 0))
    _TASK = lambda j: task(items[j])        # noqa: E731 -- inherited by the fork, not pickled
    try:
        with mp.get_context("fork").Pool(n) as pool:
            done = dict(zip(order, pool.imap(_run, order, chunksize=1)))
    finally:
        _TASK = None
    return [done[j] for j in range(len(items))]  # type: ignore[misc]
