"""``auditkit demo``: build the demo family (SmolLM2-135M-Instruct and six fine-tunes)."""
from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from auditkit.cli._common import INTERRUPTED, console, handles_errors
from auditkit.cli.progress import build_lines
from auditkit.demo import DEMO_MODELS, BuildEvent, build_demo_family

app = typer.Typer(help="The demo family: a base model and six fine-tunes built here.",
                  no_args_is_help=True)


@app.command("build")
@handles_errors
def build(
    out: Path = typer.Option(Path("models/demo"), "--out",
                             help="Where to write the family (one directory per model and "
                                  "family.yaml)."),
    seed: int = typer.Option(0, "--seed", help="Seed for LoRA initialisation and data order."),
    force: bool = typer.Option(False, "--force",
                               help="Rebuild every model, even those already built with the "
                                    "same settings."),
) -> None:
    """Build the demo family, reusing models already built with the same settings."""
    started = time.monotonic()
    try:
        if not console.is_terminal:       # a file or a pipe: plain lines, not bars
            build_demo_family(out, seed=seed, force=force, progress=build_lines(console))
        else:
            with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                          TextColumn("{task.fields[note]}"), TimeElapsedColumn(),
                          console=console) as bar:
                build_demo_family(out, seed=seed, force=force, progress=_renderer(bar))
    except KeyboardInterrupt:
        console.print("interrupted: finished models are kept; run the command again to resume")
        raise typer.Exit(INTERRUPTED) from None
    console.print(f"demo family in [bold]{escape(str(out))}[/] "
                  f"({time.monotonic() - started:.0f} s); audit it with "
                  f"[bold]auditkit family show {escape(str(out))}[/]", highlight=False)


def _renderer(bar: Progress) -> Callable[[BuildEvent], None]:
    """A progress callback drawing one bar per model: its training steps, then its time."""
    tasks = {m.name: bar.add_task(m.name, total=max(m.steps, 1), note="waiting", start=False)
             for m in DEMO_MODELS}

    def on_event(event: BuildEvent) -> None:
        task = tasks[event.model]
        if event.stage == "start":
            bar.start_task(task)
            note = "converting GGUF" if event.total == 0 else "training"
            bar.update(task, total=event.total or 1, completed=0, note=note)
        elif event.stage == "step":
            bar.update(task, completed=event.step, note=f"loss {event.loss:.3f}")
        elif event.stage == "reused":
            bar.update(task, total=1, completed=1, note="reused")
        elif event.stage == "done":
            bar.update(task, total=event.total or 1, completed=event.total or 1,
                       note=f"built in {event.seconds:.0f} s")
            bar.stop_task(task)

    return on_event
