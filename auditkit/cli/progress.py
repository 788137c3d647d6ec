"""Progress without a terminal: plain lines, one per interval while a group scores.

On a terminal, ``run`` and ``gate`` draw rich progress bars; when the output goes to a file or
a pipe (CI, ``make demo | tee``), bars would only appear once, at the end. There, each model
group gets a line when it starts, one every interval while it loads and scores (group, items
done of total, rate, elapsed, ETA; a background thread ticks, so a long model load or batch
still shows) and one when it ends; judging likewise. The interval is 30 s, or
``AUDITKIT_PROGRESS_INTERVAL`` seconds.
"""
from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.markup import escape

if TYPE_CHECKING:
    from auditkit.demo import BuildEvent
    from auditkit.score.plan import ModelGroup
    from auditkit.types import Family

INTERVAL_S = 30.0                   # seconds between lines; AUDITKIT_PROGRESS_INTERVAL sets it


def interval_s() -> float:
    """AUDITKIT_PROGRESS_INTERVAL (seconds), else INTERVAL_S."""
    try:
        return max(float(os.environ.get("AUDITKIT_PROGRESS_INTERVAL", INTERVAL_S)), 0.0)
    except ValueError:
        return INTERVAL_S


@dataclass
class _Counter:
    label: str
    total: int
    started: float
    done: int = 0
    last_line: float = 0.0


def clock_text(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


class LineProgress:
    """The engine's and the judges' progress as plain lines on ``console``."""

    def __init__(self, console: Console, *, interval: float | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.console, self.clock = console, clock
        self.interval = interval_s() if interval is None else interval
        self.counters: dict[str, _Counter] = {}
        self.lock = threading.RLock()

    def tick(self) -> None:
        """A status line for each group or judge running that has had none for an interval."""
        with self.lock:
            now = self.clock()
            for counter in self.counters.values():
                if now - counter.last_line >= self.interval and counter.done < counter.total:
                    counter.last_line = now
                    self._line(self._status(counter, now))

    def group_started(self, group: ModelGroup, total: int, cached: int) -> None:
        label = f"{group.label} ({', '.join(group.scored)})"
        self._start(f"score:{group.base}", label, total)
        note = f", {cached} from the cache" if cached else ""
        self._line(f"scoring {label}: {total} to score{note}" if total
                   else f"scoring {label}: all {cached} from the cache")

    def advanced(self, group: ModelGroup, n: int) -> None:
        self._advance(f"score:{group.base}", n)

    def group_finished(self, group: ModelGroup) -> None:
        self._finish(f"score:{group.base}")

    def judging_started(self, judge: str, total: int) -> None:
        self._start(f"judge:{judge}", f"judge {judge}", total)
        self._line(f"judging with {judge}: {total} replies")

    def judged(self, judge: str, n: int) -> None:
        self._advance(f"judge:{judge}", n)
        counter = self.counters[f"judge:{judge}"]
        if counter.done >= counter.total:
            self._finish(f"judge:{judge}")

    def _start(self, key: str, label: str, total: int) -> None:
        now = self.clock()
        with self.lock:
            self.counters[key] = _Counter(label, total, now, last_line=now)

    def _advance(self, key: str, n: int) -> None:
        with self.lock:
            self.counters[key].done += n
        self.tick()

    def _finish(self, key: str) -> None:
        with self.lock:
            counter = self.counters.pop(key, None)
        if counter is None or not counter.total:
            return
        elapsed = self.clock() - counter.started
        self._line(f"{counter.label}: {counter.done}/{counter.total} done in "
                   f"{clock_text(elapsed)}{self._rate(counter, elapsed)}")

    def _status(self, counter: _Counter, now: float) -> str:
        elapsed = now - counter.started
        rate = counter.done / elapsed if elapsed > 0 else 0.0
        eta = clock_text((counter.total - counter.done) / rate) if rate > 0 else "?"
        return (f"{counter.label}: {counter.done}/{counter.total} "
                f"({100 * counter.done // max(counter.total, 1)}%){self._rate(counter, elapsed)}"
                f", {clock_text(elapsed)} elapsed, ETA {eta}")

    @staticmethod
    def _rate(counter: _Counter, elapsed: float) -> str:
        return f", {counter.done / elapsed:.1f} items/s" if elapsed > 0 and counter.done else ""

    def _line(self, text: str) -> None:
        with self.lock:
            self.console.print(escape(text), highlight=False, soft_wrap=True)


class Ticker:
    """Calls ``progress.tick()`` every ``period`` seconds in a daemon thread until stopped."""

    def __init__(self, progress: LineProgress, period: float) -> None:
        self.progress, self.period = progress, period
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, name="auditkit-progress", daemon=True)

    def _run(self) -> None:
        while not self.stopped.wait(self.period):
            self.progress.tick()

    def __enter__(self) -> Ticker:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopped.set()
        self.thread.join(timeout=5)


class LineRunProgress(LineProgress):
    """``run``'s progress without a terminal: the family tree first, as with bars."""

    def family_found(self, family: Family) -> None:
        from auditkit.cli.family import family_tree

        self.console.print(family_tree(family))
        for warning in family.warnings:
            self.console.print(f"[yellow]warning:[/] {escape(warning)}")


@contextmanager
def progress_display(console: Console, bars: Callable[[], Any], on_terminal: Callable[[Any], Any],
                     plain: type[LineProgress] = LineProgress) -> Iterator[Any]:
    """``on_terminal(bar)`` inside ``bars()`` (rich bars) when ``console`` is a terminal, else
    plain lines (``plain``)."""
    if console.is_terminal:
        with bars() as bar:
            yield on_terminal(bar)
        return
    lines = plain(console)
    with Ticker(lines, max(lines.interval / 4, 1.0)):
        yield lines


def build_lines(console: Console, *, interval: float | None = None,
                clock: Callable[[], float] = time.monotonic) -> Callable[[BuildEvent], None]:
    """``demo build``'s progress without a terminal: a line when a model starts, is reused or
    is done, and at most one per interval while it trains (step, loss)."""
    every = interval_s() if interval is None else interval
    last: dict[str, float] = {}

    def on_event(event: BuildEvent) -> None:
        now = clock()
        if event.stage == "start":
            last[event.model] = now
            what = "converting GGUF" if event.total == 0 else f"training {event.total} steps"
            _print(console, f"{event.model}: {what}")
        elif event.stage == "step" and now - last.get(event.model, now) >= every:
            last[event.model] = now
            loss = f", loss {event.loss:.3f}" if event.loss is not None else ""
            _print(console, f"{event.model}: step {event.step}/{event.total}{loss}")
        elif event.stage == "reused":
            _print(console, f"{event.model}: reused (already built with these settings)")
        elif event.stage == "done":
            _print(console, f"{event.model}: built in {clock_text(event.seconds or 0.0)}")

    return on_event


def _print(console: Console, text: str) -> None:
    console.print(escape(text), highlight=False, soft_wrap=True)
