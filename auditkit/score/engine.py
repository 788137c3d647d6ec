"""The scoring engine: every (model, probe, item) the cache lacks, scored group by group.

For each model group (a base and its LoRA children, see ``plan``) the engine asks the cache what
is missing, loads the group only if something is, and scores the missing items in chunks: one
chunk's requests for all the group's members go to the backend together (mixed-adapter
batches), identical requests are sent once, and the chunk's outcomes are committed to the cache
before the next chunk starts, so an interrupted run loses at most the chunk in flight.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, ContextManager, Protocol, Sequence

from auditkit.family.stamp import Stamp, check_unchanged, family_stamps
from auditkit.score.backend import Backend
from auditkit.score.kinds import scorer
from auditkit.score.plan import ModelGroup, plan_groups
from auditkit.store.cache import ResultCache
from auditkit.types import Family, Item, Probe

# opens a loaded backend for a group; leaving the context frees the model
BackendOpener = Callable[[ModelGroup], ContextManager[Backend]]


class Progress(Protocol):
    def group_started(self, group: ModelGroup, total: int, cached: int) -> None: ...
    def advanced(self, group: ModelGroup, n: int) -> None: ...
    def group_finished(self, group: ModelGroup) -> None: ...


@dataclass
class ScoringStats:
    """What a call to :func:`score_family` did (cache hits versus newly scored outcomes)."""

    scored: int = 0
    cached: int = 0
    groups_loaded: list[str] = field(default_factory=list)
    # per loaded group: base, outcomes scored, seconds (loading included), CPU threads if known
    group_timings: list[dict] = field(default_factory=list)


def score_family(family: Family, probes: Sequence[Probe], *, cache: ResultCache,
                 open_backend: BackendOpener, config: str,
                 models: Sequence[str] | None = None, chunk_items: int = 64,
                 fresh: bool = False, progress: Progress | None = None) -> ScoringStats:
    """Fill ``cache`` with an outcome for every (model, probe, item); return what it did.

    ``fresh`` rescores everything (the new outcomes replace the cached ones).
    """
    stats = ScoringStats()
    groups = plan_groups(family, models)
    stamps = family_stamps(family, [m for g in groups for m in g.scored])
    for group in groups:
        # probe name -> {item id: members lacking it}
        todo = _missing(family, group, probes, None if fresh else cache, config)
        total = _count(todo)
        cached = len(group.scored) * sum(len(p.items) for p in probes) - total
        stats.cached += cached
        if progress:
            progress.group_started(group, total, cached)
        if total:
            stats.groups_loaded.append(group.base)
            started = time.perf_counter()
            with open_backend(group) as backend:
                for probe in probes:
                    stats.scored += _score_probe(family, group, probe, todo[probe.name], backend,
                                                 cache, config, chunk_items, progress, stamps)
            stats.group_timings.append({"group": group.base, "scored": total,
                                        "seconds": round(time.perf_counter() - started, 3),
                                        "threads": getattr(backend, "threads", None)})
        if progress:
            progress.group_finished(group)
    return stats


def _missing(family: Family, group: ModelGroup, probes: Sequence[Probe],
             cache: ResultCache | None, config: str) -> dict[str, dict[str, list[str]]]:
    """For each probe, the items some scored member lacks, with the members that lack them
    (all of them when there is no cache to consult)."""
    todo: dict[str, dict[str, list[str]]] = {}
    for probe in probes:
        ids = [item.id for item in probe.items]
        need: dict[str, list[str]] = {}
        for member in group.scored:
            found = (cache.get_many(family.get(member).fingerprint, probe.version, config, ids)
                     if cache is not None else {})
            for item_id in ids:
                if item_id not in found:
                    need.setdefault(item_id, []).append(member)
        todo[probe.name] = need
    return todo


def _count(todo: dict[str, dict[str, list[str]]]) -> int:
    return sum(len(members) for need in todo.values() for members in need.values())


def _score_probe(family: Family, group: ModelGroup, probe: Probe, need: dict[str, list[str]],
                 backend: Backend, cache: ResultCache, config: str, chunk_items: int,
                 progress: Progress | None, stamps: dict[str, Stamp]) -> int:
    items = [item for item in probe.items if item.id in need]
    done = 0
    for start in range(0, len(items), chunk_items):
        chunk = [(item, need[item.id]) for item in items[start:start + chunk_items]]
        outcomes = score_chunk(group, probe, chunk, backend)  # member -> [(item id, outcome)]
        # checked before any write: a changed model stores nothing of this chunk
        check_unchanged(family, outcomes, stamps)
        for member, rows in outcomes.items():
            cache.put_many(family.get(member).fingerprint, probe.version, config, rows)
        n = sum(len(members) for _, members in chunk)
        done += n
        if progress:
            progress.advanced(group, n)
    return done


def score_chunk(group: ModelGroup, probe: Probe, chunk: Sequence[tuple[Item, Sequence[str]]],
                backend: Backend) -> dict[str, list[tuple[str, dict]]]:
    """Score items for the members listed with each, in one backend call; identical requests
    (same adapter, same request) are sent once."""
    kind = scorer(probe.kind)
    unique: dict[tuple, int] = {}  # (adapter key, request) -> index into the backend call
    plan: list[tuple[str, Item, list[int]]] = []  # (member, item, indices of its requests)
    for item, members in chunk:
        reqs = kind.requests(probe, item)  # built once per item, shared by all members
        for member in members:
            key = group.adapter_key(member)
            slots = [unique.setdefault((key, r), len(unique)) for r in reqs]
            plan.append((member, item, slots))
    calls = list(unique)
    adapters = [key for key, _ in calls]
    requests = [req for _, req in calls]
    method = getattr(backend, kind.METHOD)
    results = method(requests, adapters=adapters)
    out: dict[str, list[tuple[str, dict]]] = {}
    for member, item, slots in plan:
        outcome = kind.outcome(probe, item, [results[i] for i in slots])
        out.setdefault(member, []).append((item.id, outcome))
    return out
