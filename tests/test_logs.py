"""Quiet logs: library deprecation warnings silenced, others shown once as one line; without a
terminal, progress as plain periodic lines; each message printed once."""
from __future__ import annotations

import io
import os
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from gate_helpers import fake_gate_family, write_probes
from rich.console import Console
from typer.testing import CliRunner

from auditkit.cli import app
from auditkit.cli.progress import LineProgress, clock_text, interval_s
from auditkit.cli.quiet import quiet_libraries
from auditkit.score import FakeOpener, register_backend
from auditkit.score.backends import unregister_backend
from auditkit.score.plan import ModelGroup

runner = CliRunner()


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _bars(text: str) -> list[str]:
    """Lines of rich progress bars (the tables' rules are not)."""
    return [line for line in text.splitlines() if "━" in line and ("items/s" in line
                                                                   or "ETA" in line)]


def _lines(out: io.StringIO) -> list[str]:
    return out.getvalue().splitlines()


def test_line_progress_is_periodic() -> None:
    out, clock = io.StringIO(), Clock()
    progress = LineProgress(Console(file=out, width=200), interval=10, clock=clock)
    group = ModelGroup("base", (("lora", "adapter_0"),), ("base", "lora"))
    progress.group_started(group, 100, 20)
    for _ in range(10):                       # 10 items every 2 s: a line every 10 s
        clock.now += 2
        progress.advanced(group, 10)
    progress.group_finished(group)
    assert _lines(out) == [
        "scoring base + 1 adapters (base, lora): 100 to score, 20 from the cache",
        "base + 1 adapters (base, lora): 50/100 (50%), 5.0 items/s, 0:00:10 elapsed, ETA "
        "0:00:10",
        "base + 1 adapters (base, lora): 100/100 done in 0:00:20, 5.0 items/s",
    ]


def test_ticks_show_a_long_load_or_batch() -> None:
    out, clock = io.StringIO(), Clock()
    progress = LineProgress(Console(file=out, width=200), interval=30, clock=clock)
    group = ModelGroup("base", (), ("base",))
    progress.group_started(group, 64, 0)
    clock.now += 29
    progress.tick()                              # not yet an interval: nothing
    clock.now += 31
    progress.tick()                              # a minute loading, nothing scored yet
    assert _lines(out)[1:] == ["base (base): 0/64 (0%), 0:01:00 elapsed, ETA ?"]


def test_ticker_thread_calls_tick() -> None:
    from auditkit.cli.progress import Ticker

    ticks = []

    class Counting(LineProgress):
        def tick(self) -> None:
            ticks.append(1)

    with Ticker(Counting(Console(file=io.StringIO())), 0.01):
        time.sleep(0.2)
    n = len(ticks)
    time.sleep(0.05)
    assert n >= 3 and len(ticks) == n            # ticked, and stopped on leaving


def test_line_progress_of_a_cached_group_and_judging() -> None:
    out, clock = io.StringIO(), Clock()
    progress = LineProgress(Console(file=out, width=200), interval=10, clock=clock)
    group = ModelGroup("base", (), ("base",))
    progress.group_started(group, 0, 30)
    progress.group_finished(group)
    progress.judging_started("default", 4)
    clock.now += 1
    progress.judged("default", 4)
    assert _lines(out) == ["scoring base (base): all 30 from the cache",
                           "judging with default: 4 replies",
                           "judge default: 4/4 done in 0:00:01, 4.0 items/s"]


def test_interval_and_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    assert clock_text(3725) == "1:02:05"
    monkeypatch.setenv("AUDITKIT_PROGRESS_INTERVAL", "2.5")
    assert interval_s() == 2.5
    monkeypatch.setenv("AUDITKIT_PROGRESS_INTERVAL", "soon")
    assert interval_s() == 30.0


def test_library_warnings_silenced_or_shown_once(monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(os, "environ", {"TRANSFORMERS_VERBOSITY": "info"})
    with warnings.catch_warnings():
        quiet_libraries()
        assert os.environ["TRANSFORMERS_VERBOSITY"] == "info"      # a user's setting is kept
        assert os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] == "1"
        for _ in range(3):
            warnings.warn("`past_key_values` is deprecated", FutureWarning, stacklevel=1)
            warnings.warn("something odd", UserWarning, stacklevel=1)
    err = capsys.readouterr().err
    assert "past_key_values" not in err
    assert err.count("something odd") == 1 and len(err.strip().splitlines()) == 1


def test_debug_leaves_warnings_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "environ", {"AUDITKIT_DEBUG": "1"})
    with warnings.catch_warnings():
        before = warnings.showwarning
        quiet_libraries()
        assert warnings.showwarning is before and "TRANSFORMERS_VERBOSITY" not in os.environ


class WarningOpener(FakeOpener):
    """The fake backend, warning like transformers does each time it opens a model."""

    @contextmanager
    def open(self, group: ModelGroup) -> Iterator:
        warnings.warn("`past_key_values` is deprecated and will be removed", FutureWarning,
                      stacklevel=1)
        warnings.warn("generation flags are not valid", UserWarning, stacklevel=1)
        with super().open(group) as backend:
            yield backend


@pytest.fixture
def warning_backend() -> Iterator[str]:
    register_backend("warning", WarningOpener)
    yield "warning"
    unregister_backend("warning")


def test_run_through_a_pipe(tmp_path: Path, warning_backend: str,
                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUDITKIT_PROGRESS_INTERVAL", "0")
    family = fake_gate_family(tmp_path / "fam")
    probes = write_probes(tmp_path / "probes")
    with warnings.catch_warnings():
        result = runner.invoke(app, ["run", "--family", str(family), "--probes", str(probes),
                                     "--backend", warning_backend, "--out",
                                     str(tmp_path / "run")])
    out = result.output
    assert result.exit_code == 0, out
    assert "scoring base + 3 adapters (base, biased, comply, safety): 96 to score" in out
    assert "base + 3 adapters (base, biased, comply, safety): 96/96 done in" in out
    assert "judging with heuristic: " in out
    assert not _bars(out)                                          # no bars cut to the width
    assert "past_key_values" not in out and "FutureWarning" not in out
    assert out.count("generation flags are not valid") == 1
    assert out.count("Reports:") == 1 and out.count("Run directory:") == 1


def test_gate_through_a_pipe(tmp_path: Path, warning_backend: str) -> None:
    family = fake_gate_family(tmp_path / "fam")
    probes = write_probes(tmp_path / "probes")
    with warnings.catch_warnings():
        result = runner.invoke(app, ["gate", "--family", str(family), "--candidate", "comply",
                                     "--probes", str(probes), "--backend", warning_backend,
                                     "--out", str(tmp_path / "gate")])
    assert result.exit_code in (0, 1), result.output
    assert "scoring base + 1 adapters (base, comply): 48 to score" in result.output
    assert not _bars(result.output) and "FutureWarning" not in result.output
    assert result.output.count("Gate ") == 1


def test_demo_build_through_a_pipe(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import auditkit.cli.demo as demo_cli
    from auditkit.demo import BuildEvent

    def build(out: Path, *, seed: int, force: bool, progress) -> Path:
        progress(BuildEvent("base", "reused"))
        progress(BuildEvent("support", "start", total=20))
        for step in range(1, 21):
            progress(BuildEvent("support", "step", step=step, total=20, loss=2.0 / step))
        progress(BuildEvent("support", "done", step=20, total=20, seconds=75.0))
        return out

    monkeypatch.setattr(demo_cli, "build_demo_family", build)
    monkeypatch.setenv("AUDITKIT_PROGRESS_INTERVAL", "0")
    result = runner.invoke(app, ["demo", "build", "--out", str(tmp_path / "fam")])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[:3] == ["base: reused (already built with these settings)",
                         "support: training 20 steps", "support: step 1/20, loss 2.000"]
    assert "support: step 20/20, loss 0.100" in lines and "support: built in 0:01:15" in lines
    assert not _bars(result.output) and "━" not in result.output
