"""``auditkit judge``: list the reply judges, measure one against human labels, train the default."""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pandas as pd
import typer
from rich.table import Table

from auditkit.cli._common import console, err_console, handles_errors
from auditkit.errors import AuditError
from auditkit.judge import get_judge, judge_names
from auditkit.judge.evaluate import JudgeEvaluation, evaluate_judge
from auditkit.judge.labels import load_labels

app = typer.Typer(help="Reply judges: list them, measure one against human labels, train the "
                  "default judge.", no_args_is_help=True)

OPTION_HELP = "A judge option KEY=VALUE, e.g. model_dir=DIR or path=MODEL_DIR (repeatable)."


@app.command("list")
@handles_errors
def list_judges() -> None:
    """The registered judges and their versions (judges that need options show '-')."""
    for name in judge_names():
        try:
            version = get_judge(name).version
        except (TypeError, AuditError):
            version = "-"
        console.print(f"{name}  {version}", highlight=False)


@app.command("evaluate")
@handles_errors
def evaluate(
    labels_file: Path = typer.Argument(..., help="Human-labelled replies: .jsonl or .csv with "
                                       "prompt, reply, label [, model, prompt_type, expect, "
                                       "harmful] (docs/judge.md)."),
    judge: str = typer.Option("default", "--judge", "-j", help="The judge's name."),
    option: list[str] | None = typer.Option(None, "--option", "-o", help=OPTION_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print the figures as JSON."),
) -> None:
    """Measure a judge against human labels: agreement, kappa, precision and recall, per model
    and prompt type, and how much of its error two models share."""
    rows = load_labels(labels_file)
    result = evaluate_judge(get_judge(judge, **_options(option or [])), rows)
    if as_json:
        typer.echo(json.dumps(result.to_dict(), indent=2))
    else:
        _print(result)


@app.command("train")
@handles_errors
def train(
    data: Path = typer.Option(..., "--data", help="The judge data folder (openai-rbr-gold/, "
                              "gptfuzz/, chatgpt-refusals/), e.g. ../shared/judge-data."),
    out: Path | None = typer.Option(None, "--out", help="Where to write model.json and "
                                       "weights.npz (default: the packaged model's folder)."),
    compare: bool = typer.Option(False, "--compare", help="First compare the candidates "
                                 "(several minutes) and print their table."),
    embeddings: Path | None = typer.Option(None, "--embeddings-from", help="Static token "
                                           "embeddings ('auditkit judge distill'): the "
                                           "comparison then includes the dense candidates."),
) -> None:
    """Train the default judge from the labelled replies (recipe in docs/judge.md)."""
    from auditkit.judge import recipe  # scikit-learn is only needed here
    from auditkit.judge.default import MODEL_DIR
    if compare:
        table = recipe.comparison(data, log=lambda s: err_console.print(s, highlight=False),
                                  embeddings=embeddings)
        console.print(table.round(3).to_string(index=False), markup=False, highlight=False)
        console.print(recipe.scores_by_candidate(table).round(3).to_string(), markup=False,
                      highlight=False)
        console.print(recipe.decision(table).round(3).to_string(), markup=False,
                      highlight=False)
    model = recipe.train_default(data, out or MODEL_DIR)
    console.print(f"wrote {out or MODEL_DIR} (version {model.digest[:12]})", highlight=False)


@app.command("distill")
@handles_errors
def distill(
    model: Path = typer.Option(..., "--model", help="A HF-format causal LM folder, e.g. "
                               "models/demo/base (SmolLM2-135M)."),
    out: Path = typer.Option(..., "--out", help="Where to write embeddings.npz and "
                             "tokenizer.json."),
    layer: int = typer.Option(8, "--layer", help="Hidden layer (0 = input embeddings)."),
    dims: int = typer.Option(128, "--dims", help="PCA components kept."),
) -> None:
    """Distill static token embeddings from a model for the judge's dense candidates."""
    from auditkit.backend.distill import distill as run  # torch is only needed here
    console.print(f"wrote {run(model, out, layer, dims)}", highlight=False)


def _options(pairs: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise typer.BadParameter(f"expected KEY=VALUE, got {pair!r}", param_hint="--option")
        out[key] = value
    return out


def _num(value: Any, digits: int = 3) -> str:
    if isinstance(value, float):
        return "-" if math.isnan(value) else f"{value:.{digits}f}"
    return str(value)


HEADERS = {"n_human": "humans", "n_judge": "judge", "agreement": "agree", "kappa": "kappa",
           "agreement_refuse": "agree r/c", "kappa_refuse": "kappa r/c",
           "human_refusal_rate": "refuse% hum", "judge_refusal_rate": "refuse% judge",
           "prompt_type": "prompt type", "model_a": "model a", "model_b": "model b",
           "n_prompts": "n", "errors_a": "err a", "errors_b": "err b",
           "shared_errors": "shared err", "shared_errors_chance": "chance",
           "ec_human": "EC hum", "ec_judge": "EC judge", "ec_diff": "EC diff"}


def _table(title: str, frame: pd.DataFrame, columns: list[str]) -> Table:
    table = Table(title=title, title_justify="left")
    for col in columns:
        text = frame[col].dtype == object
        table.add_column(HEADERS.get(col, col), justify="left" if text else "right",
                         overflow="fold", no_wrap=not text)
    for row in frame[columns].itertuples(index=False):
        table.add_row(*(_num(v) for v in row))
    return table


GROUP_COLUMNS = ["n", "agreement", "kappa", "agreement_refuse", "kappa_refuse",
                 "human_refusal_rate", "judge_refusal_rate"]


def _print(result: JudgeEvaluation) -> None:
    o = result.overall
    console.print(f"judge {result.judge}: {o['n']} replies", highlight=False)
    console.print(f"refuse/comply: agreement {_num(o['agreement_refuse'])}, kappa "
                  f"{_num(o['kappa_refuse'])}; three-way ({o['n_three_way']} replies): agreement "
                  f"{_num(o['agreement'])}, kappa {_num(o['kappa'])}"
                  + (f"; harmful ({o['n_harmful']}): kappa {_num(o['kappa_harmful'])}"
                     if o["n_harmful"] else ""), highlight=False)
    console.print(_table("per label", result.labels,
                         ["label", "n_human", "n_judge", "precision", "recall"]))
    for title, frame, key in (("per model", result.by_model, "model"),
                              ("per prompt type", result.by_prompt_type, "prompt_type")):
        if len(frame):
            console.print(_table(title, frame, [key] + GROUP_COLUMNS))
    if len(result.pairs):
        console.print(_table("pairs of models (refuse/comply errors; error consistency)",
                             result.pairs, ["model_a", "model_b", "n_prompts", "errors_a",
                                            "errors_b", "shared_errors", "shared_errors_chance",
                                            "ec_human", "ec_judge", "ec_diff"]))
