"""The reports show the dataset-native metrics: a "Benchmarks" section in report.html and
report.md, and ``benchmarks`` in summary.json, with the analysis' numbers."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from report_helpers import PROBES, item_ids, make_run

from auditkit.analyze.io import analyze_run
from auditkit.analyze.native import ITEM_COLUMNS, NATIVE_ITEMS_FILE
from auditkit.analyze.simulate_run import SimProbe
from auditkit.report import render_reports

CROWS = SimProbe("bias.crows_pairs", "pair", "bias", "multiple", 40)
PARENTS = {"base": None, "child": "base", "grandchild": "child"}


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A simulated run whose pair probe is CrowS-Pairs' (item attributes written as a run
    writes them), analysed and reported."""
    run = make_run(tmp_path_factory.mktemp("native") / "run", parents=PARENTS,
                   probes=(*PROBES, CROWS), analyze=False)
    ids = item_ids(CROWS)
    items = pd.DataFrame({"probe": CROWS.name, "item": ids, "benchmark": "crows_pairs",
                          "subset": ["gender" if j % 2 else "race-color" for j in range(len(ids))],
                          "condition": "stereo", "unit": ids, "unknown": -1, "biased": 0})
    items.astype(ITEM_COLUMNS).to_parquet(run / NATIVE_ITEMS_FILE, index=False)
    analyze_run(run, n_bootstrap=200, n_permutations=200)
    render_reports(run)
    return run


def _stereotype_score(run: Path, model: str) -> float:
    results = pd.read_parquet(run / "results.parquet")
    rows = results[(results["model"] == model) & (results["probe"] == CROWS.name)]
    return float((rows["score"] > 0).mean())


def test_analysis_has_the_stereotype_score(run_dir: Path) -> None:
    native = pd.read_parquet(run_dir / "analysis" / "native.parquet")
    overall = native[(native["metric"] == "stereotype_score") & (native["subset"] == "all")]
    assert list(overall["model"]) == list(PARENTS)
    for row in overall.itertuples():
        assert row.value == pytest.approx(_stereotype_score(run_dir, row.model))
        assert row.lo <= row.value <= row.hi
    assert set(native["subset"]) == {"all", "gender", "race-color"}
    edges = pd.read_parquet(run_dir / "analysis" / "native_edges.parquet")
    assert sorted(zip(edges["parent"], edges["child"])) == ([("base", "child")] * 3
                                                            + [("child", "grandchild")] * 3)


def test_html_report_has_the_benchmarks_section(run_dir: Path) -> None:
    html = (run_dir / "report.html").read_text()
    assert '<section id="benchmarks">' in html and 'href="#benchmarks"' in html
    section = html.split('<section id="benchmarks">')[1].split("</section>")[0]
    assert "CrowS-Pairs" in section and "stereotype score" in section
    value = _stereotype_score(run_dir, "child")
    assert f'data-v="{value}"' in section
    assert "change along the lineage" in section


def test_markdown_report_has_the_benchmarks_section(run_dir: Path) -> None:
    md = (run_dir / "report.md").read_text()
    section = md.split("## Benchmarks")[1].split("\n## ")[0]
    assert "### CrowS-Pairs" in section
    assert "stereotype score" in section
    assert f"{round(100 * _stereotype_score(run_dir, 'base'))}% \\[" in section  # md escapes [


def test_summary_json_has_the_benchmarks(run_dir: Path) -> None:
    summary = json.loads((run_dir / "summary.json").read_text())
    crows = summary["benchmarks"]["crows_pairs"]
    overall = {r["model"]: r["value"] for r in crows["metrics"]
               if r["metric"] == "stereotype_score" and r["subset"] == "all"}
    assert overall["grandchild"] == pytest.approx(_stereotype_score(run_dir, "grandchild"))
    assert {c["test"] for c in crows["changes"]} == {"mcnemar"}
    assert summary["tables"]["native"] == "analysis/native.parquet"


def test_a_run_without_benchmarks_says_so(tmp_path: Path) -> None:
    run = make_run(tmp_path / "run", parents=PARENTS, n_bootstrap=20, n_permutations=20)
    render_reports(run)
    assert "No imported benchmark probes in this run" in (run / "report.html").read_text()
    assert "## Benchmarks" not in (run / "report.md").read_text()
    assert json.loads((run / "summary.json").read_text())["benchmarks"] == {}


def test_dataset_text_in_the_benchmarks_section_is_escaped(tmp_path: Path) -> None:
    """Subset names come from the dataset's files: markup in them is shown, never run."""
    run = make_run(tmp_path / "run", parents=PARENTS, probes=(*PROBES, CROWS), analyze=False,
                   inject=False)
    ids = item_ids(CROWS)
    hostile = "<script>window.__pwned=4</script>"
    items = pd.DataFrame({"probe": CROWS.name, "item": ids, "benchmark": "crows_pairs",
                          "subset": [hostile if j % 2 else "race|color" for j in range(len(ids))],
                          "condition": "", "unit": ids, "unknown": -1, "biased": 0})
    items.astype(ITEM_COLUMNS).to_parquet(run / NATIVE_ITEMS_FILE, index=False)
    analyze_run(run, n_bootstrap=20, n_permutations=20)
    render_reports(run)
    html = (run / "report.html").read_text()
    assert hostile not in html and "&lt;script&gt;window.__pwned=4&lt;/script&gt;" in html
    md = (run / "report.md").read_text()
    assert hostile not in md and "race\\|color" in md
