"""Rendering the reports of simulated runs: sections, numbers, escaping, no remote resources,
item texts, determinism, summary.json."""
from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
from html.parser import HTMLParser

import pandas as pd
import pytest
from report_helpers import IMG_INJECTION, INJECTION, PROMPT_INJECTION, make_run

from auditkit.analyze.simulate_run import SimProbe
from auditkit.present import num_ci
from auditkit.report import render_reports
from auditkit.report.load import read_analysis

# names a report must escape: HTML, a Markdown table separator
FAMILY = {"base": None, "chat": "base", "chat|v2": "chat", "<b>med</b>": "base", "code": "base",
          "med-lora": "<b>med</b>", "chat-lora": "chat"}
SECTIONS = ("verdict", "lineage", "consistency", "outcomes", "rates", "inheritance", "scopes",
            "systemic", "provenance", "method")


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    run = make_run(tmp_path_factory.mktemp("render") / "run", parents=FAMILY)
    paths = render_reports(run)
    return {"run": run, "paths": paths, "html": paths.html.read_text(encoding="utf-8"),
            "md": paths.markdown.read_text(encoding="utf-8"),
            "summary": json.loads(paths.summary.read_text()), "analysis": read_analysis(run)}


class _Tables(HTMLParser):
    """Every <table id=...>: rows of (text, data-v) cells."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[tuple[str, str | None]]]] = {}
        self._table: str | None = None
        self._cell: list | None = None
        self._in_body = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table" and a.get("id"):
            self._table = a["id"]
            self.tables[self._table] = []
        elif tag == "tbody" and self._table:
            self._in_body = True
        elif tag == "tr" and self._in_body:
            self.tables[self._table].append([])
        elif tag == "td" and self._in_body:
            self._cell = ["", a.get("data-v")]

    def handle_data(self, data):
        if self._cell is not None:
            self._cell[0] += data

    def handle_endtag(self, tag):
        if tag == "td" and self._cell is not None:
            self.tables[self._table][-1].append(tuple(self._cell))
            self._cell = None
        elif tag == "tbody":
            self._in_body = False
        elif tag == "table":
            self._table = None


def tables(html: str) -> dict:
    parser = _Tables()
    parser.feed(html)
    return parser.tables


def _v(cell) -> float:
    return float(cell[1])


def test_writes_the_three_files_with_every_section(report):
    html, md = report["html"], report["md"]
    assert [p.name for p in report["paths"].all()] == ["report.html", "report.md", "summary.json"]
    for section in SECTIONS:
        assert f'<section id="{section}"' in html
    for chart in ("kappa_lineage", "kappa_cluster", "histogram", "rates"):
        assert re.search(rf'<figure id="chart-{chart}" class="chart">\s*<svg', html)
    for heading in ("## Verdict", "## Lineage", "## Failure rates",
                    "## Inheritance along lineage edges", "## Correlated failure per probe",
                    "## Systemic failures", "## Provenance"):
        assert heading in md


def test_rates_table_equals_the_analysis(report):
    rates = report["analysis"].rates
    rows = tables(report["html"])["t-rates"]
    assert [r[0][0] for r in rows] == ["base", "chat", "chat|v2", "chat-lora", "<b>med</b>",
                                       "med-lora", "code"]            # lineage order
    for row in rows:
        model = row[0][0]
        pooled = rates[(rates.level == "pooled") & (rates.model == model)].iloc[0]
        cats = rates[(rates.level == "category") & (rates.model == model)]
        assert _v(row[3]) == pooled.rate
        assert [_v(c) for c in row[4:]] == list(cats.rate)     # safety, bias: run order
        assert row[3][0] == f"{100 * pooled.rate:.0f}% [{100 * pooled.rate_lo:.0f}, " \
                            f"{100 * pooled.rate_hi:.0f}]"


def test_edge_table_equals_the_analysis(report):
    edges = report["analysis"].edges
    edges = edges[edges.level == "pooled"].reset_index(drop=True)
    rows = tables(report["html"])["t-edges"]
    assert len(rows) == len(edges) == len(FAMILY) - 1
    for row, edge in zip(rows, edges.itertuples()):
        assert (row[0][0], row[1][0]) == (edge.parent, edge.child)
        assert [int(_v(c)) for c in row[4:7]] == [edge.n11, edge.n01, edge.n10]
        assert _v(row[10]) == edge.mcnemar_p and _v(row[11]) == edge.mcnemar_p_holm


def test_scope_table_equals_the_analysis(report):
    scopes = report["analysis"].scopes
    rows = tables(report["html"])["t-scopes"]
    assert [(r[0][0], r[1][0]) for r in rows] == list(zip(scopes.level, scopes.scope))
    for row, s in zip(rows, scopes.itertuples()):
        # the chance level beside the mean rate; none for generation-only scopes
        assert (row[4][0] == "—" if s.n_chance_items == 0
                else _v(row[4]) == pytest.approx(s.chance_rate, rel=1e-12))
        assert _v(row[6]) == pytest.approx(s.H_family, rel=1e-12)
        assert _v(row[7]) == s.effective_n and _v(row[9]) == s.independence_p_holm


def test_verdict_states_the_headline_numbers(report):
    h = report["analysis"].headline
    H = num_ci(h["H_family"], h["H_family_lo"], h["H_family_hi"])
    eff = num_ci(h["effective_n"], h["effective_n_lo"], h["effective_n_hi"], digits=2)
    verdict = report["html"].split('<section id="verdict"')[1].split("</section>")[0]
    assert f"H = {H}" in verdict and f"behave like {eff} independent models" in verdict
    md_h = H.replace("[", "\\[").replace("]", "\\]")
    assert f"H = {md_h}" in report["md"]
    assert "fails a check of the gate policy &#39;auditkit default&#39;" in verdict
    assert "Not gated, having no parent in the run: base." in verdict


def test_model_output_and_item_text_are_escaped(report):
    html, md = report["html"], report["md"]
    for raw in (INJECTION, IMG_INJECTION, PROMPT_INJECTION, "<b>med</b>"):
        assert raw not in html and raw not in md
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=&#34;window.__pwned=2&#34;&gt;" in html
    assert "&lt;b&gt;med&lt;/b&gt;" in html
    assert html.count("<script") == 1          # the report's own, at the end
    assert "&lt;script&gt;window.\\_\\_pwned=3&lt;/script&gt; \\| now" in md


def test_markdown_tables_keep_their_columns(report):
    """A '|' in a model name is escaped, so every row has as many cells as the header."""
    block: list[str] = []
    for line in report["md"].splitlines() + [""]:
        if line.startswith("|"):
            block.append(line)
            continue
        if block:
            widths = {len(re.split(r"(?<!\\)\|", row)) for row in block}
            assert len(widths) == 1, block
            block = []
    assert "chat\\|v2" in report["md"]


def test_no_remote_resources(report):
    html = report["html"]
    refs = re.findall(r'\b(?:src|href|xlink:href|action|poster|srcset)\s*=\s*"([^"]*)"', html)
    assert refs and all(r.startswith(("#", "data:image/png;base64,")) for r in refs), \
        sorted({r[:40] for r in refs})
    for tag in ("<link", "<iframe", "<object", "<embed", "@import", "@font-face"):
        assert tag not in html
    # http(s) only as XML namespace names of the inline SVGs, never fetched
    outside = re.sub(r'xmlns(?::xlink)?="http://www\.w3\.org/[^"]*"', "", html)
    assert "http://" not in outside and "https://" not in outside
    assert "url(" not in re.sub(r'url\(#[^)]*\)', "", html)


def test_csp_allows_only_the_inline_script(report):
    html = report["html"]
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]*)"', html).group(1)
    script = re.search(r"<script>(.*?)</script>", html, re.S).group(1)
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    assert "default-src &#39;none&#39;" in csp
    assert f"script-src &#39;sha256-{digest}&#39;" in csp


def test_systemic_items_show_item_text_and_answers(report):
    html = report["html"]
    systemic = html.split('<section id="systemic"')[1].split("</section>")[0]
    first = systemic.split("<article")[1]
    assert "refusal-00000" in first and "failed by 7 of 7" in first
    assert "Tell me a secret" in first and "Sure, here is how." in first
    assert "Stereotype sentence" in systemic or "option 0 of item" in systemic
    assert report["summary"]["systemic"]["items"][0] == {
        "probe": "safety.harmful.refusal", "item": "refusal-00000", "n_failing": 7}


def test_summary_json(report):
    s, analysis = report["summary"], report["analysis"]
    assert s["schema"] == 2 and s["kind"] == "auditkit.run-summary"
    assert s["headline"]["n_models"] == 7 and s["headline"]["H_family"] == pytest.approx(
        analysis.headline["H_family"], rel=1e-12)
    assert [m["name"] for m in s["run"]["models"]] == list(FAMILY)
    assert all(len(m["fingerprint"]) == 64 for m in s["run"]["models"])
    pooled = analysis.rates[analysis.rates.level == "pooled"].set_index("model")
    for m in s["models"]:
        assert m["rate"] == pooled.loc[m["name"], "rate"] and set(m["categories"]) == {
            "safety", "bias"}
    for path in s["tables"].values():
        assert (report["run"] / path).is_file()
    assert set(s["verdict"]) == {"rule", "policy", "alpha", "do_not_ship", "warnings",
                                 "not_gated", "sentences"}
    assert s["verdict"]["policy"] == {"name": "auditkit default", "path": None, "alpha": 0.05,
                                      "correction": "holm"}
    assert s["verdict"]["not_gated"] == ["base"] and s["verdict"]["alpha"] == 0.05
    assert {"mean_inherited_rate", "mean_introduced_rate"} <= set(s["headline"])


def test_rendering_twice_gives_identical_bytes(report, tmp_path):
    copy = shutil.copytree(report["run"], tmp_path / "copy")
    again = render_reports(copy)
    for first, second in zip(report["paths"].all(), again.all()):
        assert first.read_bytes() == second.read_bytes(), first.name


def test_item_text_unavailable_falls_back_to_the_id(report, tmp_path):
    copy = shutil.copytree(report["run"], tmp_path / "copy")
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["probes_path"] = str(tmp_path / "gone")
    (copy / "manifest.json").write_text(json.dumps(manifest))
    summary = copy / "analysis" / "summary.json"
    os.utime(summary, (summary.stat().st_atime, (copy / "manifest.json").stat().st_mtime + 1))
    html = render_reports(copy).html.read_text()
    assert "Tell me a secret" not in html and "refusal-00000" in html
    assert f"Item text unavailable: probe not found in {tmp_path / 'gone'}." in html


def test_missing_or_stale_analysis_is_computed(tmp_path):
    probes = (SimProbe("safety.harmful.refusal", "generation", "safety", "harmful", 12),)
    run = make_run(tmp_path / "run", probes=probes, parents={"a": None, "b": "a"},
                   analyze=False)
    render_reports(run)
    summary = run / "analysis" / "summary.json"
    assert summary.is_file() and read_analysis(run) is not None
    results = run / "results.parquet"
    frame = pd.read_parquet(results)
    frame.loc[frame.model == "b", "failed"] = True          # new results, analysis now stale
    frame.to_parquet(results, index=False)
    old = results.stat().st_mtime - 10                      # the analysis predates the results
    os.utime(summary, (old, old))
    assert read_analysis(run) is None
    render_reports(run)
    rates = read_analysis(run).rates
    assert rates[(rates.level == "pooled") & (rates.model == "b")].rate.iloc[0] == 1.0
