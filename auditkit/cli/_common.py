"""What every command shares: the consoles and the turning of input errors into exit code 2."""
from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from auditkit.errors import AuditError

console = Console()
err_console = Console(stderr=True)

F = TypeVar("F", bound=Callable[..., Any])

EXIT_OK, EXIT_FAILED, EXIT_ERROR = 0, 1, 2
INTERRUPTED = 130


def report_error(err: AuditError) -> None:
    """Print every problem of ``err`` on stderr, one per line, without a traceback."""
    for problem in err.problems:
        err_console.print(f"[bold red]error:[/] {escape(str(problem))}", highlight=False,
                          markup=True, soft_wrap=True)


def handles_errors(func: F) -> F:
    """Decorate a command: an AuditError becomes a clear message and exit code 2."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except AuditError as err:
            report_error(err)
            raise typer.Exit(EXIT_ERROR) from None

    return wrapper  # type: ignore[return-value]


def exit_interrupted(note: str) -> NoReturn:
    """Ctrl-C during a command that scores: say what was kept, exit 130."""
    err_console.print(f"[yellow]Interrupted.[/] {note}")
    raise typer.Exit(INTERRUPTED)


def environment_error(err: Exception) -> NoReturn:
    """An error that no check turned into an AuditError (the environment, or a bug): one line
    naming the file when it is known, exit 2; AUDITKIT_DEBUG=1 shows the traceback instead."""
    if os.environ.get("AUDITKIT_DEBUG"):
        raise err
    where = getattr(err, "filename", None)
    err_console.print(f"[bold red]error:[/] {escape(str(where) + ': ' if where else '')}"
                      f"{escape(type(err).__name__)}: {escape(str(err))} (set AUDITKIT_DEBUG=1 "
                      "for the traceback)", soft_wrap=True, highlight=False)
    raise typer.Exit(EXIT_ERROR)


# Options shared by the commands that load models (`run`, `gate`): one definition each.
BACKEND_OPTION = typer.Option("hf", "--backend", help="The registered backend that scores: hf "
                              "(transformers, the default), fake (no model: deterministic "
                              "made-up answers, to try the pipeline) or external (only "
                              "members given by their outputs, family.yaml external: FILE; "
                              "a family's external members are served so whatever the "
                              "backend).")
EXECUTOR_OPTION = typer.Option("local", "--executor", help="Where model groups are scored: "
                               "local (one after the other in this process) or ray (on a Ray "
                               "cluster, one task per group; pip install auditkit[ray]; "
                               "docs/distributed.md).")
RAY_ADDRESS_OPTION = typer.Option(None, "--ray-address", help="With --executor ray: the "
                                  "cluster to join, e.g. auto or HOST:6379 (default: "
                                  "RAY_ADDRESS if set, else a new local cluster).")
RAY_CPUS_OPTION = typer.Option(None, "--ray-cpus-per-group", min=0.0, help="With --executor "
                               "ray: CPUs each group's task asks for (default: --threads, "
                               "else 1).")
RAY_GPUS_OPTION = typer.Option(None, "--ray-gpus-per-group", min=0.0, help="With --executor "
                               "ray: GPUs each group's task asks for (default: 1 when scoring "
                               "on CUDA, else 0; a fraction shares a GPU).")
DEVICE_OPTION = typer.Option(None, "--device", help="cpu, cuda, cuda:N (default: cuda when "
                             "present, else cpu).")
DTYPE_OPTION = typer.Option(None, "--dtype", help="float32, bfloat16 or float16 (default: "
                            "bfloat16 on CUDA, float32 on CPU).")
BATCH_TOKENS_OPTION = typer.Option(None, "--batch-tokens", min=16, help="Token budget per "
                                   "batch (default: the device's).")
THREADS_OPTION = typer.Option(None, "--threads", min=1, help="CPU threads for torch "
                              "(default: OMP_NUM_THREADS if set, else the cores other "
                              "processes leave idle).")
ALLOW_PICKLE_OPTION = typer.Option(False, "--allow-pickle", help="Allow pickle weight files "
                                   "(*.bin, *.pt); they can run code when loaded.")
TRUST_REMOTE_CODE_OPTION = typer.Option(False, "--trust-remote-code", help="Allow model code "
                                        "shipped with a model directory to run.")

JUDGE_OPTION = typer.Option(None, "--judge", help="Judge every generation probe's replies with "
                            "this registered judge (default: each probe's scoring.judge): "
                            "default, heuristic, regex, model-rubric, llama-guard, "
                            "harmbench-classifier (docs/judge.md).")
JUDGE_ARG_OPTION = typer.Option(None, "--judge-arg", metavar="KEY=VALUE", help="An argument "
                                "of the judge, e.g. path=/models/guard for a model judge "
                                "(repeatable; with --judge they replace the probes' judge_args, "
                                "else they are added to them). true/false and numbers are read "
                                "as such, anything else as text.")
JUDGE_CONFIDENCE_OPTION = typer.Option(
    0.8, "--judge-confidence", min=0.0, max=1.0, help="A generation reply is 'unsure' when its "
    "judge's confidence is below this; a conclusion on a generation probe (a failed gate check, "
    "a significant lineage edge) says how many of its discordant items were judged unsure and "
    "whether it holds without them (docs/gate.md, docs/reports.md).")


def judge_args_of(pairs: list[str] | None) -> dict[str, Any]:
    """``--judge-arg KEY=VALUE`` options as a mapping (values: bool, int, float or text)."""
    args: dict[str, Any] = {}
    for pair in pairs or ():
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise typer.BadParameter(f"expected KEY=VALUE, found {pair!r}",
                                     param_hint="--judge-arg")
        args[key.strip()] = _scalar(value)
    return args


def _scalar(text: str) -> Any:
    if text in ("true", "false"):
        return text == "true"
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            continue
    return text


def selection_of(quick: bool, selection: str | None) -> str | None:
    """``--quick`` and ``--selection`` as one selection name (giving both is an error)."""
    if quick and selection:
        raise typer.BadParameter("give --quick or --selection, not both")
    return "quick" if quick else selection
