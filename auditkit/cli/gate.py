"""``auditkit gate``: may a new fine-tune ship? Exit 0 passed, 1 the policy failed, 2 error."""
from __future__ import annotations

from pathlib import Path

import click
import typer
from rich.markup import escape
from rich.table import Table

from auditkit.cli._common import (
    ALLOW_PICKLE_OPTION,
    BACKEND_OPTION,
    BATCH_TOKENS_OPTION,
    DEVICE_OPTION,
    DTYPE_OPTION,
    EXECUTOR_OPTION,
    EXIT_FAILED,
    EXIT_OK,
    JUDGE_ARG_OPTION,
    JUDGE_CONFIDENCE_OPTION,
    JUDGE_OPTION,
    RAY_ADDRESS_OPTION,
    RAY_CPUS_OPTION,
    RAY_GPUS_OPTION,
    THREADS_OPTION,
    TRUST_REMOTE_CODE_OPTION,
    console,
    environment_error,
    exit_interrupted,
    handles_errors,
    judge_args_of,
    selection_of,
)
from auditkit.cli.progress import progress_display
from auditkit.cli.run import RichProgress, _progress_bar
from auditkit.errors import AuditError
from auditkit.gate import GateResult, append_step_summary, junit_xml, markdown_summary, run_gate
from auditkit.score.settings import BackendSettings


@handles_errors
def gate(
    family: Path = typer.Option(..., "--family", "-f", help="The family directory."),
    candidate: str = typer.Option(..., "--candidate", help="The member to gate (its name in "
                                  "the family)."),
    parent: str | None = typer.Option(None, "--parent", help="Compare with this member "
                                      "(default: the candidate's parent in the lineage)."),
    policy: Path | None = typer.Option(None, "--policy", help="Gate policy YAML (default: "
                                       "the built-in policy, docs/gate.md)."),
    probes: Path | None = typer.Option(None, "--probes", help="A probe file or battery "
                                       "directory (default: the built-in battery)."),
    benchmarks: list[Path] | None = typer.Option(None, "--benchmarks", help="A directory "
                                                  "of imported benchmark probes, gated in full "
                                                  "beside the battery (repeatable)."),
    probe: list[str] | None = typer.Option(None, "--probe", "-p", help="Only probes whose "
                                           "name matches this glob (repeatable; default: "
                                           "the policy's)."),
    category: list[str] | None = typer.Option(None, "--category", "-c", help="Only probes "
                                              "of this category (repeatable; default: the "
                                              "policy's)."),
    quick: bool = typer.Option(False, "--quick", help="Use the `quick` selection (the "
                               "default policy's choice)."),
    selection: str | None = typer.Option(None, "--selection", help="A named selection, a "
                                         "path, or `all` for every item (default: the "
                                         "policy's)."),
    out: Path | None = typer.Option(None, "--out", "-o", help="Directory for the results "
                                    "and gate outputs (default: reports/gate-<candidate>-"
                                    "<timestamp>)."),
    junit: Path | None = typer.Option(None, "--junit", help="Also write the JUnit XML "
                                      "here."),
    markdown: Path | None = typer.Option(None, "--markdown", help="Also write the Markdown "
                                         "summary here."),
    backend: str = BACKEND_OPTION,
    executor: str = EXECUTOR_OPTION,
    ray_address: str | None = RAY_ADDRESS_OPTION,
    ray_cpus_per_group: float | None = RAY_CPUS_OPTION,
    ray_gpus_per_group: float | None = RAY_GPUS_OPTION,
    device: str | None = DEVICE_OPTION,
    dtype: str | None = DTYPE_OPTION,
    batch_tokens: int | None = BATCH_TOKENS_OPTION,
    threads: int | None = THREADS_OPTION,
    judge: str | None = JUDGE_OPTION,
    judge_arg: list[str] | None = JUDGE_ARG_OPTION,
    judge_confidence: float = JUDGE_CONFIDENCE_OPTION,
    allow_pickle: bool = ALLOW_PICKLE_OPTION,
    trust_remote_code: bool = TRUST_REMOTE_CODE_OPTION,
) -> None:
    """Gate CANDIDATE against its parent: score and judge what the caches lack (replies judged
    by each probe's judge, or --judge), compare item by item, apply the policy. Writes
    gate.md, gate-junit.xml and gate.json (and appends the summary to $GITHUB_STEP_SUMMARY
    when set). Exit 0: passed; 1: the policy failed; 2: bad input or an error."""
    chosen = selection_of(quick, selection)
    judge_args = judge_args_of(judge_arg)
    settings = BackendSettings(backend=backend, executor=executor, device=device, dtype=dtype,
                               token_budget=batch_tokens, threads=threads,
                               allow_pickle=allow_pickle, trust_remote_code=trust_remote_code,
                               ray_address=ray_address, ray_cpus_per_group=ray_cpus_per_group,
                               ray_gpus_per_group=ray_gpus_per_group)
    try:
        with progress_display(console, _progress_bar, RichProgress) as shown:
            result = run_gate(family, candidate, parent=parent, policy=policy,
                              probes_dir=probes, probe_names=tuple(probe or ()),
                              categories=tuple(category or ()),
                              selection=chosen, out_dir=out,
                              backend=settings, progress=shown, judge=judge,
                              judge_args=judge_args, judge_confidence=judge_confidence,
                              benchmarks=tuple(benchmarks or ()))
        _write_extras(result, junit=junit, markdown=markdown)
    except KeyboardInterrupt:
        exit_interrupted("Finished results are kept in the cache.")
    except (AuditError, click.exceptions.ClickException, click.exceptions.Exit):
        raise
    except Exception as err:  # a bug or the environment: one line, exit 2, no traceback
        environment_error(err)
    print_result(result)
    raise typer.Exit(EXIT_OK if result.passed else EXIT_FAILED)


def _write_extras(result: GateResult, *, junit: Path | None, markdown: Path | None) -> None:
    """The outputs the user asked for outside the run directory, and the CI step summary."""
    summary = markdown_summary(result)
    for path, text in ((junit, junit_xml(result)), (markdown, summary)):
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    append_step_summary(summary)


def print_result(result: GateResult) -> None:
    """The failed and warned checks, then the verdict and where the outputs are."""
    if result.failed or result.warned:
        table = Table(title="Checks not passed")
        for col in ("probe", "check", "severity", "result"):
            table.add_column(col, overflow="fold")
        for v in result.failed + result.warned:
            table.add_row(escape(v.probe), v.title, v.severity, escape(v.explained))
        console.print(table)
    for note in result.warnings:
        console.print(f"[yellow]note:[/] {escape(note)}", soft_wrap=True)
    n, n_failed, n_warned = len(result.verdicts), len(result.failed), len(result.warned)
    verdict = "[bold green]PASSED[/]" if result.passed else "[bold red]FAILED[/]"
    console.print(f"Gate {verdict}: {escape(result.candidate)} against "
                  f"{escape(result.parent)}; of {n} checks {n - n_failed - n_warned} passed, "
                  f"{n_failed} failed, {n_warned} warnings; scored {result.scored} outcomes, "
                  f"{result.cached} from the cache.", soft_wrap=True)
    console.print(f"Outputs: {escape(str(result.run_dir))}/gate.md, gate-junit.xml, gate.json",
                  soft_wrap=True)
