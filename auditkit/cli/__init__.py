"""The ``auditkit`` command line: thin typer commands over the library's functions.

Each command parses its options, calls one library function and prints with rich. Exit codes:
0 success, 1 a check failed (the gate), 2 bad input or an error.
"""
from __future__ import annotations

import typer

from auditkit import __version__
from auditkit.cli.quiet import quiet_libraries

app = typer.Typer(
    name="auditkit",
    help="Audit a family of fine-tuned models for shared (correlated) bias and safety failures.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"auditkit {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Print the version and exit."),
) -> None:
    """Audit a family of fine-tuned models for shared (correlated) bias and safety failures."""
    quiet_libraries()


# Command modules after ``app``: none of them imports it. probe_import adds 'probes import' to the
# probes group when imported.
from auditkit.cli import analyze as _analyze  # noqa: E402
from auditkit.cli import cache as _cache  # noqa: E402
from auditkit.cli import demo as _demo  # noqa: E402
from auditkit.cli import family as _family  # noqa: E402
from auditkit.cli import judge as _judge  # noqa: E402
from auditkit.cli import probe_import as _probe_import  # noqa: E402,F401
from auditkit.cli import probes as _probes  # noqa: E402
from auditkit.cli import prompts as _prompts  # noqa: E402
from auditkit.cli.gate import gate as _gate  # noqa: E402
from auditkit.cli.report import report as _report  # noqa: E402
from auditkit.cli.run import run as _run  # noqa: E402

app.add_typer(_family.app, name="family")
app.add_typer(_probes.app, name="probes")
app.command("analyze")(_analyze.analyze)
app.command("run")(_run)
app.command("gate")(_gate)
app.command("report")(_report)
app.add_typer(_demo.app, name="demo")
app.add_typer(_judge.app, name="judge")
app.add_typer(_cache.app, name="cache")
app.add_typer(_prompts.app, name="prompts")
