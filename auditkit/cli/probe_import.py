"""``auditkit probes import``: turn a public dataset file into a native probe."""
from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape

from auditkit.cli._common import console, handles_errors
from auditkit.cli.probes import app
from auditkit.probes import load_probe
from auditkit.probes.importers import FORMATS, print_digest, read_dataset, write_probe


@app.command("import")
@handles_errors
def import_probe(
    fmt: str = typer.Argument(..., metavar="FORMAT",
                              help=f"The dataset's format: {', '.join(FORMATS)}."),
    src: Path = typer.Argument(..., metavar="SRC", help="The dataset file as published "
                               "(winobias: also a directory holding its *.txt.dev/test "
                               "files; holisticbias: the dataset/v1.1 directory)."),
    out: Path | None = typer.Option(None, "--out", "-o", help="Directory to write NAME.yaml "
                                    "and NAME.jsonl into (created if missing)."),
    name: str | None = typer.Option(None, "--name", help="Probe name to use instead of "
                                    "the one derived from the format and the file's name."),
    skip_bad: bool = typer.Option(False, "--skip-bad", help="Leave out malformed records "
                                  "and list them (here and in the probe file), instead of "
                                  "stopping at the first."),
    strict: bool = typer.Option(False, "--strict", help="Stop (exit 2) when the file differs "
                                "from the published one (record count, size, sha256), "
                                "instead of warning."),
    force: bool = typer.Option(False, "--force", help="Replace a different probe of the same "
                               "name in --out."),
    lexicon: Path | None = typer.Option(None, "--lexicon", help="honest: the HurtLex lexicon "
                                        "(a hurtlex_<LANG>.tsv you supply) that judges the "
                                        "completions."),
    digest: bool = typer.Option(False, "--print-digest", help="Print the file's size, sha256 "
                                "and record count as an entry of the published-files table, "
                                "and write nothing."),
) -> None:
    """Convert a public dataset (CrowS-Pairs, BBQ, WinoBias, ...) into a native probe: a YAML
    spec plus a JSONL items file, checked by loading it back."""
    if digest:
        for entry in print_digest(fmt, src):
            console.print(escape(entry), highlight=False, soft_wrap=True)
        return
    if out is None:
        raise typer.BadParameter("--out is required (unless --print-digest)")
    probe = read_dataset(fmt, src, name=name, skip_bad=skip_bad, strict=strict,
                         lexicon=lexicon)
    path = write_probe(probe, out, force=force)
    loaded = load_probe(path)
    console.print(f"wrote [bold]{escape(probe.name)}[/]: {len(loaded.items)} {probe.kind} "
                  f"items, version {loaded.version} -> {escape(str(path))}", highlight=False)
    for warning in probe.warnings:
        console.print(f"[bold yellow]warning:[/] {escape(warning)}", highlight=False,
                      soft_wrap=True)
    for note in probe.notes:
        console.print(f"note: {escape(note)}", highlight=False, soft_wrap=True)
