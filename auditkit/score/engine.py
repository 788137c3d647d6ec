"""The scoring driver: every (model, probe, item) the cache lacks, scored group by group.

The driver plans the model groups (a base and its LoRA children, see ``plan``), asks the cache
what each group's members lack, and hands the groups to an executor (``local`` by default),
which loads a group only if something is missing and scores the missing items in chunks (see
:mod:`auditkit.score.work`). The driver alone writes the cache: each chunk's outcomes are
committed as it arrives, after checking that its models were not modified meanwhile, so an
interrupted run loses at most the chunk in flight. Outcomes are filed under the backend's own
cache key (its ``scoring_config``). The fingerprints are those the family was discovered with;
the stamps of the files they were computed from are checked before a group is loaded, once it
is loaded, and before every write (:mod:`auditkit.family.stamp`). A cache that cannot be
written is refused before anything is loaded when outcomes are missing from it.
"""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from auditkit.errors import AuditError
from auditkit.family.stamp import check_unchanged, family_stamps
from auditkit.score.backends import BackendOpener, scoring_config
from auditkit.score.executors import Executor, LocalExecutor
from auditkit.score.plan import ModelGroup, plan_groups
from auditkit.score.work import ChunkScored, Event, GroupFinished, GroupStarted, GroupTask
from auditkit.store.cache import ResultCache
from auditkit.types import Family, Probe


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
    group_timings: list[dict[str, Any]] = field(default_factory=list)


def score_family(family: Family, probes: Sequence[Probe], *, cache: ResultCache,
                 opener: BackendOpener, executor: Executor | None = None,
                 models: Sequence[str] | None = None, chunk_items: int = 64,
                 fresh: bool = False, progress: Progress | None = None) -> ScoringStats:
    """Fill ``cache`` with an outcome for every (model, probe, item); return what it did.

    ``fresh`` rescores everything (the new outcomes replace the cached ones).
    """
    config = scoring_config(opener).key
    groups = plan_groups(family, models)
    tasks = [_task(family, g, probes, None if fresh else cache, config, chunk_items)
             for g in groups]
    _check_writable(cache, sum(t.total for t in tasks))
    driver = _Driver(family, cache, config, progress)
    events = (executor or LocalExecutor()).run(tasks, opener)
    try:
        for event in events:
            driver.handle(event)
    finally:
        _close(events)  # frees a model still loaded when the driver stops early
    return driver.stats


def _task(family: Family, group: ModelGroup, probes: Sequence[Probe],
          cache: ResultCache | None, config: str, chunk_items: int) -> GroupTask:
    """The group's work: for each probe, the items some scored member lacks, with the members
    that lack them (all of them when there is no cache to consult)."""
    need: dict[str, dict[str, tuple[str, ...]]] = {}
    for probe in probes:
        ids = [item.id for item in probe.items]
        lacking: dict[str, list[str]] = {}
        for member in group.scored:
            found = (cache.get_many(family.get(member).fingerprint, probe.version, config, ids)
                     if cache is not None else {})
            for item_id in ids:
                if item_id not in found:
                    lacking.setdefault(item_id, []).append(member)
        need[probe.name] = {item_id: tuple(m) for item_id, m in lacking.items()}
    missing = sum(len(members) for lacking in need.values() for members in lacking.values())
    cached = len(group.scored) * sum(len(p.items) for p in probes) - missing
    stamps = family_stamps(family, [group.base, *group.scored])
    return GroupTask(group, tuple(probes), need, cached=cached, chunk_items=chunk_items,
                     stamps=stamps)


def _check_writable(cache: ResultCache, missing: int) -> None:
    """A cache that cannot be written serves a fully cached run, and refuses any other before
    a model is loaded."""
    if missing and not cache.writable:
        raise AuditError(cache.path, f"{missing} outcomes are missing from the result cache and "
                         f"it cannot be written ({cache.read_only_reason}); make the file and "
                         "its directory writable, or set AUDITKIT_CACHE_DIR to a writable "
                         "directory (a run that finds everything cached only reads it)")


class _Driver:
    """Consumes the executor's events: writes the cache, counts, reports progress."""

    def __init__(self, family: Family, cache: ResultCache, config: str,
                 progress: Progress | None) -> None:
        self.family, self.cache, self.config = family, cache, config
        self.progress = progress
        self.stats = ScoringStats()

    def handle(self, event: Event) -> None:
        if isinstance(event, GroupStarted):
            self._started(event.task)
        elif isinstance(event, ChunkScored):
            self._chunk(event)
        elif isinstance(event, GroupFinished):
            self._finished(event)

    def _started(self, task: GroupTask) -> None:
        self.stats.cached += task.cached
        if self.progress:
            self.progress.group_started(task.group, task.total, task.cached)

    def _chunk(self, chunk: ChunkScored) -> None:
        # checked before any write: a changed model stores nothing of this chunk
        check_unchanged(self.family, chunk.outcomes, "while scoring it")
        for member, rows in chunk.outcomes.items():
            self.cache.put_many(self.family.get(member).fingerprint, chunk.probe.version,
                                self.config, rows)
        self.stats.scored += chunk.n
        if self.progress:
            self.progress.advanced(chunk.group, chunk.n)

    def _finished(self, done: GroupFinished) -> None:
        if done.loaded:
            self.stats.groups_loaded.append(done.group.base)
            self.stats.group_timings.append({
                "group": done.group.base, "scored": done.scored,
                "seconds": round(done.seconds, 3), "threads": done.threads})
        if self.progress:
            self.progress.group_finished(done.group)


def _close(events: Iterator[Event]) -> None:
    close = getattr(events, "close", None)
    if close is not None:
        close()
