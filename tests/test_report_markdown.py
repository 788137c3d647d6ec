"""The Markdown report: table cuts and the 60,000-character cap on big families (escaping:
test_present.py)."""
from __future__ import annotations

import pytest
from report_helpers import long_names, make_run

from auditkit.analyze.simulate_run import SimProbe
from auditkit.report import context
from auditkit.report.load import load_run_report_data
from auditkit.report.markdown import MAX_CHARS, Part, fit, md_table, render_markdown
from auditkit.report.tables import Cell, Column, Table


def _table(n: int) -> Table:
    rows = tuple((Cell(f"m{j}"), Cell(str(j), j)) for j in range(n))
    return Table("t", "T", (Column("model"), Column("n", True)), rows)


def test_md_table_cuts_rows_and_says_so():
    text = md_table(_table(10), 3)
    lines = text.splitlines()
    assert lines[:2] == ["| model | n |", "|---|---:|"]
    assert lines[2:5] == ["| m0 | 0 |", "| m1 | 1 |", "| m2 | 2 |"]
    assert lines[-1] == "_…7 more rows cut; see report.html or the Parquet tables._"
    assert "cut" not in md_table(_table(3), 3)


def test_fit_halves_the_widest_table_until_the_text_fits():
    big, small = _table(400), _table(20)
    parts = [Part(lambda k: md_table(big, k), 400), Part(lambda k: md_table(small, k), 20)]
    doc = fit(parts, max_chars=2_000)
    assert len(doc) < 2_000
    assert "| m19 | 19 |" in doc                   # the small table kept whole
    assert "more rows cut" in doc and parts[0].limit < 400 and parts[1].limit == 400


def test_fit_cuts_plain_text_as_a_last_resort():
    doc = fit([Part(lambda _k: "x" * 5_000, 0, 0)], max_chars=1_000)
    assert len(doc) < 1_000
    assert doc.endswith("_Report cut here to fit a comment; see report.html._\n")


@pytest.fixture(scope="module")
def big_context(tmp_path_factory):
    """90 models with long names: the Markdown would pass the cap without cuts."""
    probes = (SimProbe("safety.harmful.refusal", "generation", "safety", "harmful", 20),
              SimProbe("bias.gender.pairs", "pair", "bias", "gender", 20))
    run = make_run(tmp_path_factory.mktemp("big") / "run", parents=long_names(90),
                   probes=probes, n_bootstrap=10, n_permutations=10)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(context, "chart_set", lambda *_a: {})        # Markdown has no charts
        return context.build_context(load_run_report_data(run))


def test_big_family_fits_a_comment_with_cuts_noted(big_context):
    full = render_markdown(big_context, max_chars=10**9)
    doc = render_markdown(big_context)
    assert len(full) > MAX_CHARS and len(doc) < MAX_CHARS
    assert "more rows cut; see report.html" in doc
    for heading in ("## Verdict", "## Lineage", "## Failure rates", "## Systemic failures",
                    "## Provenance"):
        assert heading in doc
    assert doc.rstrip().endswith("`analysis/*.parquet`._")      # the footer survives


def test_smaller_caps_cut_more(big_context):
    doc = render_markdown(big_context, max_chars=15_000)
    assert len(doc) < 15_000 and doc.count("more rows cut") + doc.count("more models cut") >= 3
