"""Executors: where the model groups of a run are scored.

An executor takes the run's :class:`~auditkit.score.work.GroupTask` list and the backend
opener, runs :func:`~auditkit.score.work.run_task` for each task and yields the tasks' events
back to the driver, which alone writes the cache and shows progress. Events of one group come
in order (started, chunks, finished); a chunk is written before the executor is asked for the
next event. ``local`` runs the groups one after the other in this process; ``ray`` runs them on
a Ray cluster (:mod:`auditkit.score.executor_ray`, imported only when asked for). Adding one is
a module with a factory ``(settings) -> Executor`` plus one :func:`register_executor`.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Protocol

from auditkit.errors import AuditError
from auditkit.score.backends import BackendOpener
from auditkit.score.settings import BackendSettings
from auditkit.score.work import Event, GroupTask, run_task


class Executor(Protocol):
    def run(self, tasks: Sequence[GroupTask], opener: BackendOpener) -> Iterator[Event]:
        """Every task's events; a task's group is loaded (once) only when it has work."""
        ...


ExecutorFactory = Callable[[BackendSettings], Executor]


class LocalExecutor:
    """One group at a time, in this process: a group's model is freed before the next loads."""

    def __init__(self, settings: BackendSettings | None = None) -> None:
        self.settings = settings

    def run(self, tasks: Sequence[GroupTask], opener: BackendOpener) -> Iterator[Event]:
        for task in tasks:
            yield from run_task(task, opener)


_REGISTRY: dict[str, ExecutorFactory] = {}


def register_executor(name: str, factory: ExecutorFactory) -> None:
    """Add (or replace) the executor ``name``."""
    _REGISTRY[name] = factory


def unregister_executor(name: str) -> None:
    """Remove the executor ``name`` (nothing if there is none)."""
    _REGISTRY.pop(name, None)


def executor_names() -> list[str]:
    return list(_REGISTRY)


def get_executor(name: str, settings: BackendSettings) -> Executor:
    """The executor ``name``, built for ``settings``."""
    if name not in _REGISTRY:
        raise AuditError("--executor", f"unknown executor {name!r}; expected one of: "
                         f"{', '.join(executor_names())}")
    return _REGISTRY[name](settings)


RAY_HINT = "the ray executor needs Ray, which is not installed: pip install auditkit[ray]"


def _ray_executor(settings: BackendSettings) -> Executor:
    """The ``ray`` executor (:mod:`auditkit.score.executor_ray`), imported on use: without Ray
    installed, an AuditError with the install hint."""
    try:
        from auditkit.score.executor_ray import RayExecutor
    except ImportError as exc:
        if (exc.name or "").partition(".")[0] != "ray":
            raise
        raise AuditError("--executor", RAY_HINT) from None
    return RayExecutor(settings)


register_executor("local", LocalExecutor)
register_executor("ray", _ray_executor)
