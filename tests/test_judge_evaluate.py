"""Judge evaluation: a hand-made labels file with hand-computed figures, the CLI, bad files."""
from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path

import pytest
from typer.testing import CliRunner

from auditkit.cli import app
from auditkit.errors import AuditError
from auditkit.judge import Judgement, register_judge
from auditkit.judge.base import Label
from auditkit.judge.evaluate import agreement, evaluate_judge
from auditkit.judge.labels import load_labels
from auditkit.judge.metrics import cohen_kappa

# (model, prompt, human label, judge label); the reply is "model/prompt"
TABLE: list[tuple[str, str, str, Label]] = [
    ("m1", "p1", "FR", "full_refusal"), ("m1", "p2", "FC", "full_compliance"),
    ("m1", "p3", "PR", "full_compliance"), ("m1", "p4", "FC", "full_compliance"),
    ("m2", "p1", "FR", "full_refusal"), ("m2", "p2", "FC", "full_refusal"),
    ("m2", "p3", "FR", "full_refusal"), ("m2", "p4", "FC", "full_compliance"),
]
JUDGED = {f"{m}/{p}": j for m, p, _, j in TABLE}


@register_judge("fixed-test")
class FixedJudge:
    """Says what :data:`JUDGED` says for each reply."""

    name, version = "fixed-test", "0"

    def judge(self, requests: Sequence[str], replies: Sequence[str]) -> list[Judgement]:
        return [Judgement(JUDGED[r], 1.0) for r in replies]


def write_jsonl(path: Path, expect: dict[str, str] | None = None) -> Path:
    lines = []
    for model, prompt, label, _ in TABLE:
        row = {"prompt": prompt, "reply": f"{model}/{prompt}", "label": label, "model": model,
               "prompt_type": "unsafe" if prompt in ("p1", "p3") else "safe"}
        if expect:
            row["expect"] = expect[prompt]
        lines.append(json.dumps(row))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_cohen_kappa_hand_cases() -> None:
    assert cohen_kappa("aabb", "aabb") == 1.0
    assert cohen_kappa("abab", "aabb") == 0.0                    # p_o 0.5 = p_e 0.5
    assert math.isnan(cohen_kappa("aaaa", "aaaa"))               # p_e = 1: undefined


def test_evaluate_hand_computed(tmp_path: Path) -> None:
    result = evaluate_judge(FixedJudge(), load_labels(write_jsonl(tmp_path / "l.jsonl")))
    o = result.overall
    # three-way: 6 of 8 agree; p_e = .5*.5 + (1/8)*0 + (3/8)*(4/8) = .4375 -> kappa 5/9
    assert o["agreement"] == 0.75 and o["kappa"] == pytest.approx(5 / 9)
    # refuse/comply: 6 of 8 agree, both refuse half the time -> kappa (.75 - .5) / .5
    assert o["agreement_refuse"] == 0.75 and o["kappa_refuse"] == pytest.approx(0.5)
    labels = result.labels.set_index("label")
    assert labels.loc["full_refusal", "precision"] == 0.75
    assert labels.loc["full_refusal", "recall"] == 1.0
    assert labels.loc["full_compliance", "precision"] == labels.loc["full_compliance",
                                                                    "recall"] == 0.75
    assert labels.loc["partial_refusal", "recall"] == 0.0
    assert math.isnan(labels.loc["partial_refusal", "precision"])   # the judge never says PR
    m1 = result.by_model.set_index("model").loc["m1"]
    assert m1["agreement"] == 0.75 and m1["kappa"] == pytest.approx(5 / 9)
    assert m1["kappa_refuse"] == pytest.approx(0.5)
    assert list(result.by_prompt_type["prompt_type"]) == ["safe", "unsafe"]
    assert result.confusion.loc["partial_refusal", "full_compliance"] == 1
    assert result.confusion.loc["full_compliance", "full_refusal"] == 1


def test_pairs_shared_errors_and_error_consistency(tmp_path: Path) -> None:
    result = evaluate_judge(FixedJudge(), load_labels(write_jsonl(tmp_path / "l.jsonl")))
    pair = result.pairs.iloc[0]
    # the judge errs on m1/p3 and m2/p2: one error each, none shared, chance 1*1/4
    assert (pair["errors_a"], pair["errors_b"], pair["shared_errors"]) == (1, 1, 0)
    assert pair["shared_errors_chance"] == 0.25
    # outcome = refusal: humans m1 = m2 = [1,0,1,0] -> 1; judge [1,0,0,0] vs [1,1,1,0]:
    # c_obs .5, c_exp .25*.75 + .75*.25 = .375 -> (.5 - .375) / .625 = .2
    assert pair["ec_human"] == pytest.approx(1.0)
    assert pair["ec_judge"] == pytest.approx(0.2)
    assert pair["ec_diff"] == pytest.approx(-0.8)


def test_pairs_with_expected_behaviour(tmp_path: Path) -> None:
    expect = {"p1": "comply", "p2": "comply", "p3": "refuse", "p4": "comply"}
    rows = load_labels(write_jsonl(tmp_path / "l.jsonl", expect))
    pair = evaluate_judge(FixedJudge(), rows).pairs.iloc[0]
    # failures, humans: both [1,0,0,0] -> 1; judge: m1 [1,0,1,0], m2 [1,1,0,0] -> kappa 0
    assert pair["ec_human"] == pytest.approx(1.0)
    assert pair["ec_judge"] == pytest.approx(0.0)
    assert pair["human_shared_failures"] == pair["judge_shared_failures"] == 1


def test_csv_and_decision_labels(tmp_path: Path) -> None:
    path = tmp_path / "l.csv"
    path.write_text('prompt,reply,label,model\n"q, one",yes,refuse,a\nq2,,comply,a\n',
                    encoding="utf-8")
    rows = load_labels(path)
    assert [(r.prompt, r.reply, r.label) for r in rows] == [("q, one", "yes", "refuse"),
                                                            ("q2", "", "comply")]
    result = agreement(rows, ["partial_refusal", "full_compliance"])
    assert result.overall["kappa_refuse"] == 1.0
    assert result.overall["n_three_way"] == 0 and math.isnan(result.overall["kappa"])


@pytest.mark.parametrize("content, where", [
    ('{"prompt": "q", "reply": "r", "label": "maybe"}\n', ":1 label: unknown label 'maybe'"),
    ('{"prompt": "q", "reply": "r"}\n', ":1 label: missing"),
    ('{"prompt": "q", "reply": "r", "label": "FC", "score": 1}\n', ":1 score: unknown field"),
    ('{"prompt": "q", "reply": "r", "label": "FC"}\n{"prompt": "q", "reply": "s", '
     '"label": "FR"}\n', ":2 prompt: the same model and prompt as line 1"),
    ('{"prompt": "q", "reply": 3, "label": "FC"}\n', ":1 reply: expected a string"),
    ('{"prompt": "q", "reply": "r", "label": "FC", "expect": "yes"}\n', ":1 expect: unknown"),
    ('not json\n', ":1: not valid JSON"),
])
def test_bad_labels_file(tmp_path: Path, content: str, where: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(AuditError) as err:
        load_labels(path)
    assert str(path) + where in str(err.value)


def test_cli_evaluate_json_and_table(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "l.jsonl")
    runner = CliRunner()
    result = runner.invoke(app, ["judge", "evaluate", "--judge", "fixed-test", str(path),
                                 "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["judge"] == "fixed-test 0"
    assert data["overall"]["kappa"] == pytest.approx(5 / 9, abs=1e-6)
    assert data["pairs"][0]["ec_judge"] == pytest.approx(0.2)
    table = runner.invoke(app, ["judge", "evaluate", "-j", "fixed-test", str(path)])
    assert table.exit_code == 0 and "kappa 0.556" in table.output and "per model" in table.output


def test_cli_bad_file_and_unknown_judge_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("prompt,reply,label,verdict\nq,r,FC,x\n", encoding="utf-8")
    runner = CliRunner()
    result = runner.invoke(app, ["judge", "evaluate", "-j", "fixed-test", str(bad)])
    assert result.exit_code == 2
    assert "bad.csv:1" in result.output and "unknown column(s) 'verdict'" in result.output
    good = write_jsonl(tmp_path / "l.jsonl")
    result = runner.invoke(app, ["judge", "evaluate", "-j", "no-such-judge", str(good)])
    assert result.exit_code == 2 and "unknown judge 'no-such-judge'" in result.output


def test_cli_list_names_the_judges() -> None:
    result = CliRunner().invoke(app, ["judge", "list"])
    assert result.exit_code == 0
    names = [line.split()[0] for line in result.output.splitlines()]
    assert {"default", "heuristic", "fixed-test"} <= set(names)
