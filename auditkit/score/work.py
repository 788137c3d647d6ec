"""The unit of scoring work: one model group's missing outcomes, scored chunk by chunk.

:func:`run_task` is what an executor runs for each :class:`GroupTask` (in this process, or
later in a worker): it loads the group once through the backend opener, sends each chunk's
requests for all the group's members in one backend call, and yields the outcomes as events.
It never touches the cache: the driver (:mod:`auditkit.score.engine`) alone writes it.
"""
from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from auditkit.family.stamp import Stamped, check_stamps
from auditkit.probes.kinds import Request, get_kind
from auditkit.score.backend import Backend
from auditkit.score.backends import BackendOpener
from auditkit.score.plan import ModelGroup
from auditkit.types import Item, Probe

# member -> [(item id, outcome columns)]
Outcomes = dict[str, list[tuple[str, dict[str, Any]]]]


@dataclass(frozen=True)
class GroupTask:
    """What one model group must score: for each probe, the items and the members lacking them."""

    group: ModelGroup
    probes: tuple[Probe, ...]
    need: Mapping[str, Mapping[str, tuple[str, ...]]]   # probe name -> item id -> members
    cached: int                                          # outcomes of the group found cached
    chunk_items: int = 64
    # the group's members and their ancestors as fingerprinted: checked where they are loaded
    stamps: tuple[Stamped, ...] = ()

    @property
    def total(self) -> int:
        """Outcomes to score: one per (member, probe, item) missing."""
        return sum(len(members) for need in self.need.values() for members in need.values())


@dataclass(frozen=True)
class GroupStarted:
    task: GroupTask


@dataclass(frozen=True)
class ChunkScored:
    """One chunk's outcomes (``n`` of them) for one probe, to be written before the next."""

    group: ModelGroup
    probe: Probe
    outcomes: Outcomes
    n: int


@dataclass(frozen=True)
class GroupFinished:
    """``loaded``: a backend was opened; then the outcomes ``scored``, the ``seconds`` (loading
    included) and its CPU threads (None when the backend does not say)."""

    group: ModelGroup
    loaded: bool
    scored: int = 0
    seconds: float = 0.0
    threads: int | None = None


Event = GroupStarted | ChunkScored | GroupFinished


def run_task(task: GroupTask, opener: BackendOpener) -> Iterator[Event]:
    """Score ``task``: the group is loaded only when something is missing, and only while its
    files are those its fingerprints were computed from (checked before and after loading)."""
    yield GroupStarted(task)
    if not task.total:
        yield GroupFinished(task.group, loaded=False)
        return
    started = time.perf_counter()
    check_stamps(task.stamps, "before loading it")
    with opener.open(task.group) as backend:
        check_stamps(task.stamps, "while loading it")
        for probe in task.probes:
            yield from _probe_chunks(task, probe, backend)
    yield GroupFinished(task.group, loaded=True, scored=task.total,
                        seconds=time.perf_counter() - started,
                        threads=getattr(backend, "threads", None))


def _probe_chunks(task: GroupTask, probe: Probe, backend: Backend) -> Iterator[ChunkScored]:
    need = task.need.get(probe.name, {})
    items = [item for item in probe.items if item.id in need]
    for start in range(0, len(items), task.chunk_items):
        chunk = [(item, need[item.id]) for item in items[start:start + task.chunk_items]]
        outcomes = score_chunk(task.group, probe, chunk, backend)
        yield ChunkScored(task.group, probe, outcomes, sum(len(m) for _, m in chunk))


def score_chunk(group: ModelGroup, probe: Probe, chunk: Sequence[tuple[Item, Sequence[str]]],
                backend: Backend) -> Outcomes:
    """Score items for the members listed with each, in one backend call; identical requests
    (same adapter, same request) are sent once."""
    kind = get_kind(probe.kind)
    unique: dict[tuple[str | None, Request], int] = {}  # (adapter, request) -> call index
    plan: list[tuple[str, Item, list[int]]] = []  # (member, item, indices of its requests)
    for item, members in chunk:
        reqs = kind.requests(probe, item)  # built once per item, shared by all members
        for member in members:
            key = group.adapter_key(member)
            slots = [unique.setdefault((key, r), len(unique)) for r in reqs]
            plan.append((member, item, slots))
    adapters = [key for key, _ in unique]
    requests = [req for _, req in unique]
    results = getattr(backend, kind.method)(requests, adapters=adapters)
    out: Outcomes = {}
    for member, item, slots in plan:
        outcome = kind.outcome(probe, item, [results[i] for i in slots])
        out.setdefault(member, []).append((item.id, outcome))
    return out
