"""``auditkit cache``: check the result cache for damage, and repair it."""
from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape

from auditkit.cli._common import EXIT_FAILED, console, err_console, handles_errors

app = typer.Typer(help="Check the result cache (outcomes, replies, judgements) and repair it.",
                  no_args_is_help=True)

FILE_ARGUMENT = typer.Argument(None, help="The cache file (default: "
                               "$AUDITKIT_CACHE_DIR/results.sqlite, else "
                               "~/.cache/auditkit/results.sqlite).")


def _path(file: Path | None) -> Path:
    from auditkit.store.cache import default_cache_path

    return file if file is not None else default_cache_path()


@app.command("check")
@handles_errors
def check(file: Path | None = FILE_ARGUMENT) -> None:
    """Run SQLite's full integrity check on the cache and count the rows it can read. Exit 0:
    intact; 1: damaged (run `auditkit cache repair`); 2: no cache file or it cannot be read."""
    from auditkit.store.repair import check_cache

    found = check_cache(_path(file))
    counts = ", ".join(f"{n} {table}" for table, n in found.readable.items())
    where = escape(str(found.path))
    if found.ok:
        console.print(f"{where}: intact ({found.size / 1e6:.1f} MB; {counts}).", soft_wrap=True)
        return
    err_console.print(f"[bold red]damaged:[/] {where}", soft_wrap=True)
    for problem in found.problems:
        err_console.print(f"  {escape(problem)}", soft_wrap=True, highlight=False)
    err_console.print(f"Readable rows: {counts}. `auditkit cache repair` copies them into a new "
                      "file and keeps the damaged one aside.", soft_wrap=True)
    raise typer.Exit(EXIT_FAILED)


@app.command("repair")
@handles_errors
def repair(file: Path | None = FILE_ARGUMENT) -> None:
    """Copy the readable rows of a damaged cache into a new file put in its place; the damaged
    file is renamed <name>.damaged-<time>, never deleted. Run it while no run uses the cache;
    what was lost is scored again by the next run."""
    from auditkit.store.repair import check_cache, repair_cache

    path = _path(file)
    if check_cache(path).ok:
        console.print(f"{escape(str(path))} is intact: nothing to repair.", soft_wrap=True)
        return
    done = repair_cache(path)
    counts = " and ".join(f"{n} {table}" for table, n in done.salvaged.items())
    console.print(f"Salvaged {counts} into {escape(str(done.path))}; the damaged file is kept "
                  f"as {escape(str(done.set_aside))} (delete it yourself once you no longer "
                  "need it). The next run scores what was lost.", soft_wrap=True)
