"""``auditkit report RUN_DIR``: re-render a run's reports from its files (no model)."""
from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape

from auditkit.cli._common import JUDGE_CONFIDENCE_OPTION, console, handles_errors


@handles_errors
def report(
    run_dir: Path = typer.Argument(..., help="A run directory (manifest.json + results.parquet)."),
    policy: Path | None = typer.Option(None, "--policy", help="The gate policy YAML that "
                                          "decides 'do not ship' (default: the gate's built-in "
                                          "policy, docs/gate.md)."),
    alpha: float = typer.Option(0.05, "--alpha", min=0.0, max=1.0,
                                help="Significance level of the report's tests (shared "
                                     "failures, significant lineage edges); 'do not ship' "
                                     "uses the policy's alpha."),
    reanalyze: bool = typer.Option(False, "--reanalyze", help="Recompute RUN_DIR/analysis/ "
                                   "even when it is up to date."),
    judge_confidence: float = JUDGE_CONFIDENCE_OPTION,
) -> None:
    """Write RUN_DIR/report.html, report.md and summary.json (analysing the run first when
    RUN_DIR/analysis/ is missing or older than the results). 'Do not ship' lists the models
    that fail the gate policy against their parent, as 'auditkit gate' would."""
    from auditkit.gate import load_policy  # pandas, matplotlib: lazily
    from auditkit.report import ReportOptions, render_reports

    options = ReportOptions(policy=load_policy(policy), alpha=alpha,
                            judge_confidence=judge_confidence)
    paths = render_reports(run_dir, options=options, reanalyze=reanalyze)
    for path in paths.all():     # one line each, never wrapped: scripts can read them
        console.print(f"{escape(str(path))}  [dim]{_size(path)}[/]", soft_wrap=True,
                      highlight=False)


def _size(path: Path) -> str:
    return f"{path.stat().st_size / 1024:,.1f} KiB"
