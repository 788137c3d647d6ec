"""``auditkit run``: audit a family (score and judge what the caches lack, store, analyze)."""
from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from auditkit.cli._common import (
    ALLOW_PICKLE_OPTION,
    BACKEND_OPTION,
    BATCH_TOKENS_OPTION,
    DEVICE_OPTION,
    DTYPE_OPTION,
    EXECUTOR_OPTION,
    JUDGE_ARG_OPTION,
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
from auditkit.cli.analyze import print_analysis
from auditkit.cli.family import family_tree
from auditkit.cli.family_infer import CHECK_LINEAGE_OPTION
from auditkit.cli.progress import LineRunProgress, progress_display
from auditkit.score.settings import BackendSettings

if TYPE_CHECKING:  # pandas and the engine load only when the command runs
    import pandas as pd

    from auditkit.audit import AuditRun
    from auditkit.score.plan import ModelGroup
    from auditkit.store import ProbeEntry, RunManifest
    from auditkit.types import Family

class RichProgress:
    """Renders the engine's progress: one bar per model group (items done, rate, ETA), then
    one per judge that judges replies the judgement cache lacks."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.tasks: dict[str, TaskID] = {}
        self.judges: dict[str, TaskID] = {}

    def group_started(self, group: ModelGroup, total: int, cached: int) -> None:
        label = f"{group.label} ({', '.join(group.scored)})"
        note = f" [dim]{cached} cached[/]" if cached else ""
        self.tasks[group.base] = self.progress.add_task(label + note, total=max(total, 1),
                                                        completed=0 if total else 1)

    def advanced(self, group: ModelGroup, n: int) -> None:
        self.progress.advance(self.tasks[group.base], n)

    def group_finished(self, group: ModelGroup) -> None:
        task = self.tasks[group.base]
        self.progress.update(task, completed=self.progress.tasks[task].total)

    def judging_started(self, judge: str, total: int) -> None:
        self.judges[judge] = self.progress.add_task(f"judge {judge} (replies)", total=total)

    def judged(self, judge: str, n: int) -> None:
        self.progress.advance(self.judges[judge], n)


class RunProgress(RichProgress):
    """The run's progress, which also prints the family tree once it is discovered (the
    family the run then scores: it is discovered once)."""

    def family_found(self, family: Family) -> None:
        self.progress.console.print(family_tree(family))
        for warning in family.warnings:
            self.progress.console.print(f"[yellow]warning:[/] {escape(warning)}")


class RateColumn(ProgressColumn):
    """Items scored per second (an item = one model on one probe item)."""

    def render(self, task: Task) -> Text:
        return Text("" if task.speed is None else f"{task.speed:.1f} items/s", style="cyan")


def _progress_bar() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    RateColumn(), TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
                    console=console)


@handles_errors
def run(
    family: Path = typer.Option(..., "--family", "-f", help="The family directory to audit."),
    probes: Path | None = typer.Option(None, "--probes", help="A probe file or battery "
                                          "directory (default: the built-in battery)."),
    benchmarks: list[Path] | None = typer.Option(None, "--benchmarks", help="A directory "
                                                  "of imported benchmark probes (auditkit "
                                                  "probes import --out DIR), scored in full "
                                                  "beside the battery; its reports show each "
                                                  "benchmark's own metrics (repeatable)."),
    probe: list[str] | None = typer.Option(None, "--probe", "-p", help="Only probes whose "
                                              "name matches this glob (repeatable)."),
    category: list[str] | None = typer.Option(None, "--category", "-c", help="Only probes "
                                                 "of this category, e.g. bias (repeatable)."),
    quick: bool = typer.Option(False, "--quick", help="Use the `quick` selection (300-500 "
                               "items over every probe; sized for a CPU)."),
    selection: str | None = typer.Option(None, "--selection", help="A named selection "
                                            "(probes/selections/NAME.yaml) or a path."),
    model: list[str] | None = typer.Option(None, "--model", "-m", help="Only this member "
                                              "(repeatable; default: every member)."),
    out: Path | None = typer.Option(None, "--out", "-o", help="Run directory to write "
                                       "(default: reports/<family>-<timestamp>)."),
    backend: str = BACKEND_OPTION,
    executor: str = EXECUTOR_OPTION,
    ray_address: str | None = RAY_ADDRESS_OPTION,
    ray_cpus_per_group: float | None = RAY_CPUS_OPTION,
    ray_gpus_per_group: float | None = RAY_GPUS_OPTION,
    device: str | None = DEVICE_OPTION,
    dtype: str | None = DTYPE_OPTION,
    batch_tokens: int | None = BATCH_TOKENS_OPTION,
    threads: int | None = THREADS_OPTION,
    max_batch_size: int | None = typer.Option(None, "--max-batch-size", min=1, help="Cap on "
                                                 "sequences per batch (default: no cap)."),
    fresh: bool = typer.Option(False, "--fresh", help="Ignore cached results and "
                               "judgements: rescore and re-judge."),
    seed: int = typer.Option(0, "--seed", help="Seed for the analysis' resampling."),
    judge: str | None = JUDGE_OPTION,
    judge_arg: list[str] | None = JUDGE_ARG_OPTION,
    allow_pickle: bool = ALLOW_PICKLE_OPTION,
    trust_remote_code: bool = TRUST_REMOTE_CODE_OPTION,
    check_lineage: bool = CHECK_LINEAGE_OPTION,
    infer_lineage: bool = typer.Option(False, "--infer-lineage", help="Check the lineage "
                                       "against the weights and give each member that declares "
                                       "no parent the one its weights show."),
) -> None:
    """Audit a family: score every member on the probes (only what the cache lacks), judge
    the replies of generation probes (only what the judgement cache lacks), write the
    item-level results and manifest to a run directory, and print failure rates."""
    settings = BackendSettings(backend=backend, executor=executor, device=device, dtype=dtype,
                               token_budget=batch_tokens, threads=threads,
                               max_batch_size=max_batch_size, allow_pickle=allow_pickle,
                               trust_remote_code=trust_remote_code, ray_address=ray_address,
                               ray_cpus_per_group=ray_cpus_per_group,
                               ray_gpus_per_group=ray_gpus_per_group)
    from auditkit.audit import AuditOptions, audit_family

    options = AuditOptions(family_dir=family, probes_dir=probes, probe_names=tuple(probe or ()),
                           benchmarks=tuple(benchmarks or ()),
                           categories=tuple(category or ()),
                           selection=selection_of(quick, selection),
                           models=tuple(model or ()), out_dir=out, fresh=fresh, seed=seed,
                           backend=settings, judge=judge, judge_args=judge_args_of(judge_arg),
                           check_lineage=check_lineage, infer_lineage=infer_lineage)
    try:
        with progress_display(console, _progress_bar, RunProgress, LineRunProgress) as shown:
            result = audit_family(options, progress=shown)
    except KeyboardInterrupt:
        exit_interrupted("Finished results are kept in the cache; run the same command again "
                         "to resume.")
    except (OSError, sqlite3.Error) as err:     # the environment: a clear line, exit 2
        environment_error(err)
    print_run(result)


def print_run(result: AuditRun) -> None:
    """What the run did (scored, judged, lineage warnings), its failure rates and analysis,
    and where its files are."""
    stats = result.stats
    console.print(f"Scored {stats.scored} outcomes, {stats.cached} from the cache, in "
                  f"{result.manifest.timings.total_s:.1f} s on {result.manifest.device} "
                  f"({result.manifest.dtype}).")
    for line in judge_lines(result.manifest):
        console.print(line, soft_wrap=True)
    checked = result.manifest.lineage_check
    for warning in checked.warnings if checked else ():
        console.print(f"[yellow]warning (lineage from weights):[/] {escape(warning)}")
    console.print(failure_table(result.results))
    print_analysis(result.analysis, result.run_dir)
    console.print(f"Run directory: [bold]{result.run_dir}[/]")
    console.print(f"Reports: [bold]{result.reports.html}[/] and [bold]{result.reports.markdown}[/]")


def judge_lines(manifest: RunManifest) -> list[str]:
    """One line per judge of the run: which probes, how many replies judged and cached."""
    by_judge: dict[tuple[str, str], list[ProbeEntry]] = {}
    for probe in manifest.probes:
        if probe.judge is not None:
            by_judge.setdefault((probe.judge.name, probe.judge.version), []).append(probe)
    return [f"Judged {sum(p.judge.judged for p in ps if p.judge)} replies "
            f"({sum(p.judge.cached for p in ps if p.judge)} from the cache) with judge "
            f"[bold]{escape(name)}[/] {escape(version)}: {', '.join(p.name for p in ps)}."
            for (name, version), ps in by_judge.items()]


def failure_table(results: pd.DataFrame) -> Table:
    """Failure rate (%) per probe (rows) and model (columns, in family order)."""
    rates = results.pivot_table(index="probe", columns="model", values="failed",
                                aggfunc="mean", sort=False)
    table = Table(title="Failure rate (%) per probe and model")
    table.add_column("probe")
    for model in rates.columns:
        table.add_column(str(model), justify="right")
    for probe, row in rates.iterrows():
        table.add_row(str(probe), *(f"{100 * v:.0f}" for v in row))
    return table
