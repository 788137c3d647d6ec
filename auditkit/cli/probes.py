"""``auditkit probes``: list, show and validate probe files and batteries."""
from __future__ import annotations

import difflib
from pathlib import Path

import typer
import yaml
from rich.text import Text

from auditkit.cli._common import EXIT_ERROR, console, err_console, handles_errors
from auditkit.errors import AuditError, Problem
from auditkit.paths import builtin_probes_dir
from auditkit.probes import check_battery, item_to_dict, load_probes
from auditkit.types import Probe

app = typer.Typer(help="List, show and validate bias and safety probes.", no_args_is_help=True)

PATH_HELP = "A probe file or battery directory (default: the built-in battery)."


@app.command("list")
@handles_errors
def list_probes(
    path: Path | None = typer.Argument(None, help=PATH_HELP, show_default=False),
    selection: str | None = typer.Option(
        None, "--selection", "-s", help="A selection name (in <battery>/selections/) or file."),
    category: list[str] | None = typer.Option(
        None, "--category", "-c", help="Only probes of this category (repeatable; globs)."),
) -> None:
    """List the probes: name, kind, category, dimension, items and version."""
    probes = load_probes(path, categories=category, selection=selection)
    rows = [("name", "kind", "category", "dimension", "items", "version")]
    rows += [(p.name, p.kind, p.category, p.dimension, str(len(p.items)), p.version)
             for p in probes]
    # plain aligned columns, one probe per line (never cut or folded; easy to grep)
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for number, row in enumerate(rows):
        line = "  ".join(cell.rjust(w) if i == 4 else cell.ljust(w)
                         for i, (cell, w) in enumerate(zip(row, widths))).rstrip()
        console.print(Text(line, style="bold" if number == 0 else ""), soft_wrap=True)
    console.print(f"{len(probes)} probes, {sum(len(p.items) for p in probes)} items",
                  highlight=False)


@app.command("show")
@handles_errors
def show(
    name: str = typer.Argument(..., help="The probe's name."),
    path: Path | None = typer.Option(None, "--path", "-p", help=PATH_HELP),
    items: int = typer.Option(5, "--items", "-n", min=0, help="How many items to print."),
) -> None:
    """Print a probe's spec, scoring options and its first items."""
    probe = _find(load_probes(path), name, path)
    header = {"name": probe.name, "version": probe.version, "kind": probe.kind,
              "category": probe.category, "dimension": probe.dimension,
              "description": probe.description, "source": probe.source,
              "license": probe.license, "path": str(probe.path), "items": len(probe.items),
              "scoring": dict(probe.scoring)}
    console.print(_yaml(header), markup=False, highlight=False, end="", soft_wrap=True)
    shown = [item_to_dict(item) for item in probe.items[:items]]
    if shown:
        console.print(f"first {len(shown)} of {len(probe.items)} items:", highlight=False)
        console.print(_yaml(shown), markup=False, highlight=False, end="", soft_wrap=True)


def _find(probes: list[Probe], name: str, path: Path | None) -> Probe:
    for probe in probes:
        if probe.name == name:
            return probe
    close = difflib.get_close_matches(name, [p.name for p in probes], n=3)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    raise AuditError(path or builtin_probes_dir(), f"no probe named {name!r}{hint}")


def _yaml(value: object) -> str:
    return yaml.safe_dump(value, sort_keys=False, allow_unicode=True, width=100)


@app.command("validate")
@handles_errors
def validate(
    path: Path = typer.Argument(..., help="A probe file or battery directory to check."),
) -> None:
    """Check probe files and report every problem; exit code 2 if there is any."""
    probes, problems = check_battery(path)
    if problems:
        for problem in sorted(problems, key=_order):
            err_console.print(Text.assemble(("error: ", "bold red"), str(problem)),
                              soft_wrap=True)
        files = len({p.path for p in problems})
        err_console.print(f"{len(problems)} problems in {files} files", highlight=False)
        raise typer.Exit(EXIT_ERROR)
    console.print(f"OK: {len(probes)} probes, {sum(len(p.items) for p in probes)} items "
                  f"in {path}", highlight=False, soft_wrap=True)


def _order(problem: Problem) -> tuple[str, int]:
    return problem.path, problem.line if problem.line is not None else 0
