"""``auditkit probes import``: turn a public dataset file into a native probe."""
from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape

from auditkit.cli._common import console, handles_errors
from auditkit.cli.probes import app
from auditkit.probes import load_probe
from auditkit.probes.importers import FORMATS, read_dataset, write_probe


@app.command("import")
@handles_errors
def import_probe(
    fmt: str = typer.Argument(..., metavar="FORMAT",
                              help=f"The dataset's format: {', '.join(FORMATS)}."),
    src: Path = typer.Argument(..., metavar="SRC", help="The dataset file as published (winobias: also a "
                                         "directory holding its *.txt.dev/test files)."),
    out: Path = typer.Option(..., "--out", "-o", help="Directory to write NAME.yaml and "
                                                      "NAME.jsonl into (created if missing)."),
    name: str | None = typer.Option(None, "--name", help="Probe name to use instead of "
                                                        "the format's default."),
) -> None:
    """Convert a public dataset (CrowS-Pairs, BBQ, WinoBias, ...) into a native probe: a YAML
    spec plus a JSONL items file, checked by loading it back."""
    probe = read_dataset(fmt, src, name=name)
    path = write_probe(probe, out)
    loaded = load_probe(path)
    console.print(f"wrote [bold]{escape(probe.name)}[/]: {len(loaded.items)} {probe.kind} "
                  f"items, version {loaded.version} -> {escape(str(path))}", highlight=False)
    for note in probe.notes:
        console.print(f"note: {escape(note)}", highlight=False)
