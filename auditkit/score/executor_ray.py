"""The ``ray`` executor: model groups scored on a Ray cluster, outcomes streamed to the driver.

``auditkit run --executor ray [--ray-address ADDRESS]`` (and ``gate``). Each group with
something to score becomes one Ray generator task, :func:`score_on_node`, asking for one GPU
when the run scores on CUDA and for ``--ray-cpus-per-group`` CPUs (default ``--threads``, else 1)
otherwise; ``--ray-gpus-per-group`` overrides the GPUs (a fraction shares a GPU). The task
checks that its node runs the driver's auditkit and holds the driver's copy of every model of
the group (:mod:`auditkit.score.copies`), loads the group once, scores only what the driver
planned (what the cache lacks) and yields each chunk's outcomes as soon as it is done; Ray
streams them back. The driver alone writes the cache and the run directory, chunk by chunk as
they arrive. Groups that have nothing to score are finished here without loading anything (a
fully cached run does not start or join a cluster).

Failures. A worker or node lost mid-group (a system error) costs only the chunks in flight: the
group is submitted again for the outcomes it has not returned, ``attempts`` times in all, then
the run stops with an error naming the group (what it returned is cached; the next run resumes
from there). An error raised by the scoring itself (a model that cannot be loaded, a copy
refused) stops the run at once with that error. A driver that stops (an error, Ctrl-C) cancels
its tasks in flight; a driver that is killed takes them with it (Ray's ownership).
"""
from __future__ import annotations

import logging
import socket
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import ray
from ray.exceptions import RayError, RayTaskError

from auditkit import __version__
from auditkit.errors import AuditError, Problem, ValidationError
from auditkit.score.backends import BackendOpener, ScoringConfig, scoring_config
from auditkit.score.copies import verify_copies
from auditkit.score.settings import BackendSettings
from auditkit.score.work import (
    ChunkScored,
    Event,
    GroupFinished,
    GroupStarted,
    GroupTask,
    Outcomes,
    run_task,
)

ATTEMPTS = 3   # submissions of a group whose worker is lost, the first included


@dataclass(frozen=True)
class Resources:
    """What one group's task asks the cluster for."""

    cpus: float
    gpus: float


def group_resources(settings: BackendSettings, config: ScoringConfig) -> Resources:
    """One GPU per group when the run scores on CUDA (else none), and the CPUs asked for."""
    gpus = settings.ray_gpus_per_group
    if gpus is None:
        gpus = 1.0 if config.device.startswith("cuda") else 0.0
    return Resources(float(settings.ray_cpus_per_group or settings.threads or 1), gpus)


# ------------------------------------------------------------------ worker side

@dataclass(frozen=True)
class Job:
    """What a worker receives: the group's task as the driver planned it, and what the driver's
    outcomes are filed under (its auditkit version and cache key)."""

    task: GroupTask
    config: str
    version: str
    allow_pickle: bool = False


@dataclass(frozen=True)
class Started:
    """The worker verified its copies and is loading the group, on ``node``."""

    node: str


@dataclass(frozen=True)
class Chunk:
    """One chunk's outcomes for the probe named ``probe`` (the driver holds the probe)."""

    probe: str
    outcomes: Outcomes
    n: int


@dataclass(frozen=True)
class Refused:
    """The worker stopped on an AuditError (sent as data: the exception itself does not survive
    Ray's serialisation); the driver raises it again."""

    problems: tuple[Problem, ...]

    def error(self) -> AuditError:
        if len(self.problems) > 1:
            return ValidationError(list(self.problems))
        p = self.problems[0]
        return AuditError(p.path, p.message, field=p.field, line=p.line, item=p.item)


Message = Started | Chunk | GroupFinished | Refused


def score_on_node(job: Job, opener: BackendOpener) -> Iterator[Message]:
    """Run on a worker: check the node, then score the task, one message per chunk; an
    AuditError ends the stream with :class:`Refused`."""
    try:
        yield from _score_on_node(job, opener)
    except AuditError as err:
        yield Refused(err.problems)


def _score_on_node(job: Job, opener: BackendOpener) -> Iterator[Message]:
    node = socket.gethostname()
    if __version__ != job.version:
        raise AuditError("--executor", f"node {node} runs auditkit {__version__} and the "
                         f"driver {job.version}: install the same version on every node")
    if scoring_config(opener).key != job.config:
        raise AuditError("--executor", f"node {node} would file outcomes under another cache "
                         "key than the driver's; refused")
    stamps = verify_copies(job.task.stamps, node=node, allow_pickle=job.allow_pickle)
    yield Started(node)
    for event in run_task(replace(job.task, stamps=stamps), opener):
        if isinstance(event, ChunkScored):
            yield Chunk(event.probe.name, event.outcomes, event.n)
        elif isinstance(event, GroupFinished):
            yield event


# ------------------------------------------------------------------ driver side

class RayExecutor:
    """Scores the groups on the Ray cluster ``settings.ray_address`` names (see the module)."""

    def __init__(self, settings: BackendSettings | None = None, *,
                 attempts: int = ATTEMPTS) -> None:
        self.settings = settings or BackendSettings()
        self.attempts = attempts

    def run(self, tasks: Sequence[GroupTask], opener: BackendOpener) -> Iterator[Event]:
        for task in tasks:
            if not task.total:
                yield from run_task(task, opener)   # nothing to load
        busy = sorted((t for t in tasks if t.total), key=lambda t: -t.total)  # longest first
        if not busy:
            return
        config = scoring_config(opener)
        started = connect(self.settings.ray_address)
        try:
            need = group_resources(self.settings, config)
            check_feasible(need)
            job = Job(busy[0], config.key, __version__, self.settings.allow_pickle)
            yield from _Scheduler(job, opener, need, self.attempts).events(busy)
        finally:
            if started:
                ray.shutdown()


def connect(address: str | None) -> bool:
    """Join the cluster at ``address`` (None: RAY_ADDRESS if set, else a new local one) unless
    Ray is initialised already; True when this call initialised it (shut it down after)."""
    if ray.is_initialized():
        return False
    try:
        ray.init(address=address, logging_level=logging.ERROR, log_to_driver=False)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        raise AuditError("--ray-address", f"cannot join the Ray cluster "
                         f"{address or '(local)'}: {exc}") from None
    return True


def check_feasible(need: Resources) -> None:
    """An AuditError when no live node offers what one group asks for (Ray would wait for it
    forever)."""
    alive = [n for n in ray.nodes() if n.get("Alive")]  # type: ignore[no-untyped-call]
    nodes = [n.get("Resources", {}) for n in alive]
    if any(r.get("CPU", 0) >= need.cpus and r.get("GPU", 0) >= need.gpus for r in nodes):
        return
    offered = "; ".join(f"{r.get('CPU', 0):g} CPUs, {r.get('GPU', 0):g} GPUs" for r in nodes)
    raise AuditError("--executor", f"no node of the Ray cluster offers what a group asks for "
                     f"({need.cpus:g} CPUs, {need.gpus:g} GPUs); nodes: {offered or 'none'}. "
                     "Set --ray-cpus-per-group / --ray-gpus-per-group, or --device")


@dataclass
class _Flight:
    """A group on the cluster: its planned task and the outcomes it has not returned yet."""

    task: GroupTask
    left: dict[str, dict[str, list[str]]]   # probe -> item id -> members
    attempt: int = 1
    started: bool = False
    probes: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, task: GroupTask) -> _Flight:
        left = {p: {i: list(m) for i, m in need.items()} for p, need in task.need.items()}
        return cls(task, left, probes={p.name: p for p in task.probes})

    @property
    def remaining(self) -> int:
        return sum(len(m) for need in self.left.values() for m in need.values())

    def received(self, chunk: Chunk) -> None:
        need = self.left[chunk.probe]
        for member, rows in chunk.outcomes.items():
            for item_id, _ in rows:
                need[item_id].remove(member)
                if not need[item_id]:
                    del need[item_id]

    def resubmitted(self) -> GroupTask:
        """The task for what is left (the planned one on the first attempt)."""
        need = {p: {i: tuple(m) for i, m in items.items()} for p, items in self.left.items()}
        return replace(self.task, need=need)


class _Scheduler:
    """Submits the groups, reads their streams as they come, resubmits a lost group."""

    def __init__(self, job: Job, opener: BackendOpener, need: Resources, attempts: int) -> None:
        self.job, self.attempts = job, attempts
        self.opener = ray.put(opener)
        self.remote = ray.remote(score_on_node).options(
            num_cpus=need.cpus, num_gpus=need.gpus, max_retries=0)
        self.pending: list[tuple[Any, _Flight]] = []

    def events(self, tasks: Sequence[GroupTask]) -> Iterator[Event]:
        try:
            for task in tasks:
                self._submit(_Flight.of(task))
            while self.pending:
                ready, _ = ray.wait([gen for gen, _ in self.pending], num_returns=1)
                index = next(i for i, (gen, _) in enumerate(self.pending) if gen is ready[0])
                gen, flight = self.pending.pop(index)
                yield from self._read(gen, flight)
        finally:
            for gen, _ in self.pending:    # the driver stopped: nothing more will be written
                ray.cancel(gen)

    def _submit(self, flight: _Flight) -> None:
        job = replace(self.job, task=flight.resubmitted())
        self.pending.append((self.remote.remote(job, self.opener), flight))

    def _read(self, gen: Any, flight: _Flight) -> Iterator[Event]:
        try:
            message = ray.get(next(gen))
        except StopIteration:
            return
        except RayTaskError:                # raised by the scoring: final
            raise
        except RayError as err:             # the worker or its node was lost
            self._lost(flight, err)
            return
        self.pending.append((gen, flight))
        yield from self._event(flight, message)

    def _event(self, flight: _Flight, message: Message) -> Iterator[Event]:
        group = flight.task.group
        if isinstance(message, Started) and not flight.started:
            flight.started = True
            yield GroupStarted(flight.task)
        elif isinstance(message, Chunk):
            flight.received(message)
            yield ChunkScored(group, flight.probes[message.probe], message.outcomes, message.n)
        elif isinstance(message, GroupFinished):
            yield replace(message, scored=flight.task.total - flight.remaining)
        elif isinstance(message, Refused):
            raise message.error()

    def _lost(self, flight: _Flight, err: RayError) -> None:
        if flight.attempt >= self.attempts:
            reason = str(err).strip().splitlines()[0] if str(err).strip() else ""
            done = flight.task.total - flight.remaining
            raise AuditError(flight.task.group.label, f"the Ray worker scoring this group was "
                             f"lost {flight.attempt} times (last: {type(err).__name__}: "
                             f"{reason}); the {done} outcomes it returned are cached and the "
                             f"{flight.remaining} others are not: run again to resume")
        flight.attempt += 1
        self._submit(flight)
