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
from auditkit.types import Item, LoglikelihoodRequest, Probe

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
        yield from _probe_chunks(task, backend)
    yield GroupFinished(task.group, loaded=True, scored=task.total,
                        seconds=time.perf_counter() - started,
                        threads=getattr(backend, "threads", None))


Entry = tuple[Probe, Item, tuple[str, ...]]   # an item of a probe, and the members lacking it


def task_chunks(task: GroupTask) -> Iterator[list[Entry]]:
    """The task's items in chunks of ``chunk_items``, each chunk one backend call.

    Log-likelihood items of all the group's probes are pooled and sorted by their longest
    request (in characters: the engine has no tokenizer; the backend sorts each call by exact
    token counts), so a chunk holds requests of similar length and its batches carry little
    padding, while the cache is still written chunk by chunk. Generation items follow, probe by
    probe, in the probes' order.
    """
    pooled: list[tuple[int, Entry]] = []
    generation: list[list[Entry]] = []
    for probe in task.probes:
        need = task.need.get(probe.name, {})
        kind = get_kind(probe.kind)
        entries = [(probe, item, need[item.id]) for item in probe.items if item.id in need]
        if kind.method == "loglikelihood":
            pooled += [(_length(probe, e[1]), e) for e in entries]
        else:
            generation += _cut(entries, task.chunk_items)
    pooled.sort(key=lambda pair: -pair[0])    # stable: ties keep the probes' order
    yield from _cut([e for _, e in pooled], task.chunk_items)
    yield from generation


def _length(probe: Probe, item: Item) -> int:
    """Characters of the item's longest log-likelihood request."""
    return max(len(r.context) + len(r.continuation)
               for r in get_kind(probe.kind).requests(probe, item)
               if isinstance(r, LoglikelihoodRequest))


def _cut(entries: list[Entry], size: int) -> Iterator[list[Entry]]:
    for start in range(0, len(entries), size):
        yield entries[start:start + size]


def _probe_chunks(task: GroupTask, backend: Backend) -> Iterator[ChunkScored]:
    for chunk in task_chunks(task):
        outcomes = score_entries(task.group, chunk, backend)
        probes = {probe.name: probe for probe, _, _ in chunk}   # in order of first appearance
        for name, probe in probes.items():
            n = sum(len(members) for p, _, members in chunk if p.name == name)
            yield ChunkScored(task.group, probe, outcomes[name], n)


def score_chunk(group: ModelGroup, probe: Probe, chunk: Sequence[tuple[Item, Sequence[str]]],
                backend: Backend) -> Outcomes:
    """Score one probe's items for the members listed with each, in one backend call."""
    entries = [(probe, item, tuple(members)) for item, members in chunk]
    return score_entries(group, entries, backend).get(probe.name, {})


def score_entries(group: ModelGroup, entries: Sequence[Entry],
                  backend: Backend) -> dict[str, Outcomes]:
    """Score items of probes of one request type (probe name -> outcomes) in one backend call;
    identical requests (same adapter, same request) are sent once."""
    if not entries:
        return {}
    unique: dict[tuple[str | None, Request], int] = {}  # (adapter, request) -> call index
    plan: list[tuple[Probe, str, Item, list[int]]] = []  # (probe, member, item, its requests)
    for probe, item, members in entries:
        reqs = get_kind(probe.kind).requests(probe, item)  # built once, shared by all members
        for member in members:
            key = group.adapter_key(member)
            slots = [unique.setdefault((key, r), len(unique)) for r in reqs]
            plan.append((probe, member, item, slots))
    methods = {get_kind(probe.kind).method for probe, _, _ in entries}
    if len(methods) != 1:
        raise ValueError(f"one backend call per request type, got {sorted(methods)}")
    results = getattr(backend, methods.pop())([req for _, req in unique],
                                              adapters=[key for key, _ in unique])
    out: dict[str, Outcomes] = {}
    for probe, member, item, slots in plan:
        outcome = get_kind(probe.kind).outcome(probe, item, [results[i] for i in slots])
        out.setdefault(probe.name, {}).setdefault(member, []).append((item.id, outcome))
    return out
