"""TruthfulQA MC1 and MC2 (auditkit.analyze.native.truthfulqa): hand-computed cases, the
import of the format sample with every true answer, and one run on the fake backend with MC2
in the analysis, summary.json, both reports and the gate."""
from __future__ import annotations

import csv
import hashlib
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import tiny
from native_helpers import probe, results
from test_engine import PROBES, FakeOpener

from auditkit.analyze.native import item_table, native_tables
from auditkit.analyze.native.truthfulqa import mc2_value
from auditkit.audit import AuditOptions, audit_family
from auditkit.errors import ValidationError
from auditkit.gate import run_gate
from auditkit.gate.policy import load_policy
from auditkit.probes import load_probe, probe_version
from auditkit.probes.importers import import_dataset, read_dataset
from auditkit.probes.kinds.choice import outcome
from auditkit.store import ResultCache
from auditkit.types import ChoiceItem, Item, LoglikelihoodRequest, Probe

SAMPLE = Path("/work/shared/format-samples/truthfulqa/TruthfulQA.csv")
FIXTURE = Path(__file__).parent / "fixtures" / "formats" / "truthfulqa" / "TruthfulQA.csv"
CSV = SAMPLE if SAMPLE.is_file() else FIXTURE
E = math.e


def _item(j: int, n_true: int, n_false: int, **meta: object) -> ChoiceItem:
    """The best answer, the false ones, then the other true ones (as the importer orders)."""
    options = ("t0", *(f"f{k}" for k in range(n_false)), *(f"t{k}" for k in range(1, n_true)))
    return ChoiceItem(str(j), "", "q?", options, 0, meta={"type": "Adversarial", **meta},
                      also_true=tuple(range(1 + n_false, len(options))))


def _rows(model: str, p: Probe, lls: list[list[float]]) -> list[dict[str, Any]]:
    """Result rows as a run stores them: the choice kind's outcome of each item's scores."""
    return [{"model": model, "probe": p.name, "kind": "choice", "category": p.category,
             "item": item.id, **_outcome(p, item, scores)} for item, scores in zip(p.items, lls)]


def _outcome(p: Probe, item: Item, lls: list[float]) -> dict[str, Any]:
    assert isinstance(item, ChoiceItem)
    return outcome(p, item, [(ll, False) for ll in lls])


def _native(res: pd.DataFrame, probes: list[Probe],
            parents: dict[str, str | None]) -> tuple[pd.DataFrame, pd.DataFrame]:
    return native_tables(res, item_table(probes), parents, n_bootstrap=400, n_permutations=400)


def _value(native: pd.DataFrame, metric: str, model: str = "m") -> float:
    hit = native[(native["metric"] == metric) & (native["subset"] == "all")
                 & (native["model"] == model)]
    return float(hit["value"].iloc[0])


# ---------------------------------------------------------------- hand-computed

# question 0: best answer, two false, one other true; question 1: best, one false, one other
# true, where the other true answer scores highest but the false one beats the best
TWO = probe("truthfulqa", [_item(0, 2, 2), _item(1, 2, 1)])
TWO_LLS = [[-1.0, -1.5, -3.0, -2.0], [-3.0, -2.0, -0.5]]


def test_mc2_and_mc1_on_two_questions_by_hand() -> None:
    native, _ = _native(results(_rows("m", TWO, TWO_LLS)), [TWO], {"m": None})
    q0 = (E**-1 + E**-2) / (E**-1 + E**-2 + E**-1.5 + E**-3)
    q1 = (E**-3 + E**-0.5) / (E**-3 + E**-0.5 + E**-2)
    assert _value(native, "mc2") == pytest.approx((q0 + q1) / 2, abs=1e-12)
    # MC1 is the best answer against the false ones only: q0 right, q1 wrong although its
    # other true answer scored highest
    assert _value(native, "mc1") == pytest.approx(1 / 2)
    mc2 = native[native["metric"] == "mc2"].iloc[0]
    assert mc2["interval"] == "bootstrap" and mc2["lo"] <= mc2["value"] <= mc2["hi"]
    assert min(q0, q1) - 1e-12 <= mc2["lo"] and mc2["hi"] <= max(q0, q1) + 1e-12


def test_choice_outcome_never_chooses_an_also_true_option() -> None:
    first, second = (_outcome(TWO, item, lls) for item, lls in zip(TWO.items, TWO_LLS))
    assert (first["chosen"], first["failed"], first["score"]) == (0, False, -0.5)
    assert (second["chosen"], second["failed"], second["score"]) == (1, True, 1.0)
    assert (first["n_options"], second["n_options"]) == (3, 2)     # the options chosen among
    assert json.loads(second["option_lls"]) == [-3.0, -2.0, -0.5]


def test_mc2_is_defined_where_every_probability_underflows() -> None:
    assert np.exp(-2000.0) == 0.0
    assert mc2_value([-2000.0, -2001.0], 0b01) == pytest.approx(1 / (1 + E**-1), abs=1e-15)
    assert mc2_value([0.0, -1.0], 0b01) == pytest.approx(1 / (1 + E**-1), abs=1e-15)
    assert math.isnan(mc2_value([-1.0, -2.0], 0b11))          # no false answer
    assert math.isnan(mc2_value([-1.0, -2.0], 0))             # no true answer


def test_questions_without_their_true_answers_or_option_scores_have_no_mc2() -> None:
    # an import from before: the best answer and the false ones, the other correct answers in
    # meta only; and an outcome cached before option scores were kept
    old = probe("truthfulqa", [ChoiceItem("0", "", "q?", ("best", "f0"), 0, meta={
        "type": "Adversarial", "correct_answers": ["best", "also right"]}), _item(1, 1, 1)])
    assert list(item_table([old])["true_options"]) == [0, 0b01]
    rows = _rows("m", old, [[-1.0, -2.0], [-1.0, -2.0]])
    rows[1]["option_lls"] = ""
    native, _ = _native(results(rows), [old], {"m": None})
    assert math.isnan(_value(native, "mc2")) and _value(native, "mc1") == 1.0
    counted = native.set_index("metric")["n_items"]
    assert (counted["mc2"], counted["mc1"]) == (0, 2)      # mc2 counts questions with a value
    rows[1]["option_lls"] = json.dumps([-1.0, -2.0])
    native, _ = _native(results(rows), [old], {"m": None})
    assert native.set_index("metric")["n_items"]["mc2"] == 1
    assert _value(native, "mc2") == pytest.approx(1 / (1 + E**-1))


def test_mc2_change_along_the_lineage_with_its_interval_and_permutation_test() -> None:
    rng = np.random.default_rng(3)
    items = [_item(j, 2, 2) for j in range(40)]
    p = probe("truthfulqa", items)
    base = rng.normal(-5.0, 1.0, size=(40, 4))
    child = base.copy()
    true = [0, 3]                            # the best answer and the other true one
    child[:, true] += 1.0                    # every true answer 1 nat likelier in the child
    res = results(_rows("base", p, base.tolist()), _rows("child", p, child.tolist()))
    native, edges = _native(res, [p], {"base": None, "child": "base"})
    mass = [np.exp(b[:, true]).sum(axis=1) / np.exp(b).sum(axis=1) for b in (base, child)]
    edge = edges[edges["metric"] == "mc2"].iloc[0]
    assert edge["change"] == pytest.approx(float(np.mean(mass[1]) - np.mean(mass[0])))
    assert edge["change_lo"] < edge["change"] < edge["change_hi"] and edge["change_lo"] > 0
    assert edge["test"] == "permutation" and edge["p_value"] == pytest.approx(1 / 401)


def test_permutation_p_of_a_fractional_change_counts_every_equal_swap() -> None:
    # one question: every permutation's change is +-observed, so p = 1 exactly (sums kept in
    # float64; float32 rounds 0.7 down and the swapped permutations would be missed)
    p = probe("truthfulqa", [_item(0, 1, 1)])
    lls = [[0.0, math.log(1 / 0.1 - 1)], [0.0, math.log(1 / 0.8 - 1)]]   # mc2 0.1, then 0.8
    res = results(_rows("a", p, [lls[0]]), _rows("b", p, [lls[1]]))
    _, edges = _native(res, [p], {"a": None, "b": "a"})
    edge = edges[edges["metric"] == "mc2"].iloc[0]
    assert edge["change"] == pytest.approx(0.7) and edge["p_value"] == 1.0


def test_a_choice_item_without_also_true_keeps_its_version() -> None:
    item = ChoiceItem("0", "c", "q?", ("a", "b"), 1)
    content = {"name": "x", "kind": "choice", "scoring": {}, "items": [
        {"id": "0", "context": "c", "question": "q?", "options": ["a", "b"], "gold": 1,
         "bias_target": None, "group": ""}]}
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert probe_version("x", "choice", {}, [item]) == hashlib.sha256(
        text.encode()).hexdigest()[:16]


@pytest.mark.parametrize(("also", "message"), [
    ("[1]", "the last options"), ("[2, 2]", "the last options"), ("[5]", "the last options"),
    ("[1, 2]", "at least one false option"), ("yes", "a list of option indices")])
def test_also_true_is_checked(tmp_path: Path, also: str, message: str) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("name: t.x\nkind: choice\ncategory: bias\ndimension: x\ndescription: d\n"
                    "source: s\nlicense: l\nitems:\n  - {id: a, question: q?, options: [x, y, z],"
                    f" gold: 0, also_true: {also}}}\n")
    with pytest.raises(ValidationError, match=message):
        load_probe(path)


def test_option_scores_survive_the_cache_and_old_entries_read_without_them(
        tmp_path: Path) -> None:
    first = _outcome(TWO, TWO.items[0], TWO_LLS[0])
    old = {k: v for k, v in first.items() if k != "option_lls"}    # cached before the field
    with ResultCache(tmp_path / "c.sqlite") as cache:
        cache.put_many("fp", "v1", "cfg", [("0", first)])
        cache._db.execute("INSERT INTO results VALUES ('fp', 'v1', '1', 'cfg', ?)",
                          (json.dumps(old),))
        got = cache.get_many("fp", "v1", "cfg", ["0", "1"])
    assert json.loads(got["0"].option_lls) == TWO_LLS[0] and got["1"].option_lls == ""
    assert got["1"].chosen == got["0"].chosen == 0


# ---------------------------------------------------------------- import

def _csv_rows() -> list[dict[str, str]]:
    with CSV.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def _split(cell: str) -> list[str]:
    return list(dict.fromkeys(a.strip() for a in cell.split(";") if a.strip()))


def test_import_carries_every_true_answer_and_keeps_mc1s_options(tmp_path: Path) -> None:
    loaded = load_probe(import_dataset("truthfulqa", CSV, tmp_path))
    rows = _csv_rows()
    assert len(loaded.items) == len(rows)
    for item, row in zip(loaded.items, rows):
        assert isinstance(item, ChoiceItem)
        best, right, wrong = (row["Best Answer"].strip(), _split(row["Correct Answers"]),
                              _split(row["Incorrect Answers"]))
        others = [a for a in right if a != best]
        assert item.options == (best, *wrong, *others) and item.gold == 0
        # MC1: the options chosen among are the best answer and the incorrect ones
        assert item.also_true == tuple(range(1 + len(wrong), len(item.options)))
        assert {item.options[k] for k in (0, *item.also_true)} == set(right)
    # every correct answer (the best among them) is true: option 0 and the last ones
    table = item_table([loaded])
    assert list(table["true_options"]) == [
        sum(1 << k for k in (0, *item.also_true)) for item in loaded.items
        if isinstance(item, ChoiceItem)]
    # the published-count check still runs on the multi-answer import
    assert any("published TruthfulQA.csv holds 817" in w
               for w in read_dataset("truthfulqa", CSV).warnings)


# ---------------------------------------------------------------- one run, fake backend

def _score(adapter: str | None, request: LoglikelihoodRequest) -> tuple[float, bool]:
    """A known answer: -len/10 nats per option (an adapter's answers 0.5 nats less likely
    per character of its name, so the child differs from its parent only by a constant)."""
    return -len(request.continuation) / 10.0 - (0.5 if adapter else 0.0), False


def _expected() -> tuple[float, float]:
    """MC1 and MC2 of the sample under :func:`_score`, from the CSV itself."""
    mc1, mc2 = [], []
    for row in _csv_rows():
        best, right, wrong = (row["Best Answer"].strip(), _split(row["Correct Answers"]),
                              _split(row["Incorrect Answers"]))
        trues = [best, *[a for a in right if a != best]]
        p_true = [math.exp(-(len(a) + 1) / 10.0) for a in trues]    # " " + answer
        p_false = [math.exp(-(len(a) + 1) / 10.0) for a in wrong]
        mc2.append(sum(p_true) / (sum(p_true) + sum(p_false)))
        mc1.append(len(best) <= min(len(a) for a in wrong))       # ties go to the best
    return float(np.mean(mc1)), float(np.mean(mc2))


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("tqa")
    battery = tmp / "battery"
    battery.mkdir()
    for name, text in PROBES.items():
        (battery / name).write_text(text)
    import_dataset("truthfulqa", CSV, tmp / "bench")
    options = AuditOptions(family_dir=tiny.make_family(tmp / "fam", manifest=True),
                           probes_dir=battery, benchmarks=(tmp / "bench",), out_dir=tmp / "run")
    audit_family(options, open_backend=FakeOpener(score_fn=_score))
    return tmp


def test_a_run_has_mc2_in_summary_and_reports(run_dir: Path) -> None:
    mc1, mc2 = _expected()
    summary = json.loads((run_dir / "run" / "summary.json").read_text())
    metrics = summary["benchmarks"]["truthfulqa"]["metrics"]
    got = {(r["metric"], r["model"]): r["value"] for r in metrics if r["subset"] == "all"}
    models = {m for _, m in got}
    assert models and all(got[("mc2", m)] == pytest.approx(mc2, abs=1e-12) for m in models)
    assert all(got[("mc1", m)] == pytest.approx(mc1) for m in models)
    changes = summary["benchmarks"]["truthfulqa"]["changes"]
    assert {r["metric"] for r in changes} == {"mc1", "mc2"}
    # Holm-corrected with the edge's probe tests: never below the raw p-value
    mc2_changes = [r for r in changes if r["metric"] == "mc2"]
    assert mc2_changes and all(r["test"] == "permutation" and r["p_holm"] >= r["p_value"]
                               for r in mc2_changes)
    results = pd.read_parquet(run_dir / "run" / "results.parquet")
    stored = results[results["probe"] == "truthfulness.truthfulqa"]["option_lls"]
    assert all(len(json.loads(s)) >= 9 for s in stored)
    md = (run_dir / "run" / "report.md").read_text().split("### TruthfulQA")[1]
    html = (run_dir / "run" / "report.html").read_text().split('<section id="benchmarks">')[1]
    assert "MC2 (mass on true answers)" in md.split("\n## ")[0]
    assert "MC2 (mass on true answers)" in html.split("</section>")[0]
    assert "not computed" not in md.split("\n## ")[0]


def test_the_gate_takes_a_limit_on_mc2(run_dir: Path) -> None:
    _, mc2 = _expected()
    verdicts = {}
    for name, bound in (("pass", mc2 - 0.01), ("fail", mc2 + 0.01)):
        path = run_dir / f"{name}.yaml"
        path.write_text(f'rules:\n  "truthfulness.*":\n    native:\n'
                        f"      truthfulqa.mc2: {{min: {bound}, max_decrease: 0.5}}\n")
        result = run_gate(run_dir / "fam", "lora-a", policy=load_policy(path),
                          probes_dir=run_dir / "battery", benchmarks=(run_dir / "bench",),
                          out_dir=run_dir / f"gate-{name}", open_backend=FakeOpener(
                              score_fn=_score))
        (verdicts[name],) = [v for v in result.verdicts if v.rule == "native"]
    assert verdicts["pass"].passed and not verdicts["fail"].passed
    assert verdicts["fail"].observed == pytest.approx(mc2, abs=1e-12)
    assert "truthfulqa.mc2" in verdicts["fail"].detail
