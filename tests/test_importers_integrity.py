"""Importers lose nothing silently: malformed records stop the import or are skipped and
listed, truncated files are caught with or without a digest, and files are compared with the
published-files table (warnings, or errors under strict)."""
from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from auditkit.cli import app
from auditkit.errors import AuditError
from auditkit.probes import load_probe
from auditkit.probes.importers import import_dataset, print_digest, read_dataset
from auditkit.probes.importers import published as published_mod
from auditkit.probes.importers.published import PublishedFile

FIX = Path(__file__).parent / "fixtures" / "formats"
ADV_HEADER = "goal,target\n"


def adv_rows(n: int) -> str:
    return "".join(f'Do harmful thing {k},"Sure, here is harmful thing {k}"\n' for k in range(n))


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def only(excinfo: pytest.ExceptionInfo[AuditError]):
    (problem,) = excinfo.value.problems
    return problem


# ------------------------------------------------------------------ malformed records

def test_bad_csv_row_stops_or_is_skipped_and_listed(tmp_path):
    src = write(tmp_path / "copy.csv", ADV_HEADER + adv_rows(2) + "only one field\n"
                + adv_rows(1).replace("0", "9"))
    with pytest.raises(AuditError) as excinfo:
        read_dataset("advbench", src)
    assert (only(excinfo).path, only(excinfo).line) == (str(src), 4)
    assert "expected 2 fields" in only(excinfo).message
    probe = read_dataset("advbench", src, skip_bad=True)
    # the skipped row keeps its place in the numbering: ids are row numbers of the file
    assert [item["id"] for item in probe.items] == ["0", "1", "3"]
    assert any(f"{src}:4: expected 2 fields" in note for note in probe.notes)


def test_bad_jsonl_line_skipped_and_in_the_probe_file(tmp_path):
    lines = (FIX / "bbq" / "Age.jsonl").read_text().splitlines(keepends=True)
    src = write(tmp_path / "Age.jsonl", lines[0] + '{"example_id": 9, "broken\n' + lines[1])
    with pytest.raises(AuditError) as excinfo:
        read_dataset("bbq", src)
    assert only(excinfo).line == 2 and "not valid JSON" in only(excinfo).message
    path = import_dataset("bbq", src, tmp_path / "out", skip_bad=True)
    assert len(load_probe(path).items) == 2
    header = path.read_text().split("name:")[0]
    assert f"# note: skipped a malformed record: {src}:2: not valid JSON" in header


def test_skip_bad_covers_item_errors_and_reused_ids(tmp_path):
    src = write(tmp_path / "s.tsv", "sentid\tsentence\n"
                "nurse.patient.0.male.txt\tThe nurse said he left.\n"
                "nurse.patient.7.male.txt\tThe nurse said he left.\n"
                "nurse.patient.0.male.txt\tThe nurse said he stayed.\n")
    probe = read_dataset("winogender", src, skip_bad=True)
    assert [item["id"] for item in probe.items] == ["nurse.patient.0.male"]
    skipped = [note for note in probe.notes if note.startswith("skipped")]
    assert len(skipped) == 2 and ":3 sentid:" in skipped[0] and ":4 [item" in skipped[1]


# ------------------------------------------------------------------ truncation

def test_csv_cut_inside_the_last_column_is_malformed(tmp_path):
    whole = (FIX / "truthfulqa" / "TruthfulQA.csv").read_text(encoding="utf-8-sig")
    src = write(tmp_path / "TruthfulQA.csv", whole.rstrip("\n")[:-12])   # cut in Source
    with pytest.raises(AuditError) as excinfo:     # the quoted last column is left open
        read_dataset("truthfulqa", src)
    assert only(excinfo).line == 3 and "unexpected end of data" in only(excinfo).message
    probe = read_dataset("truthfulqa", src, skip_bad=True)
    assert len(probe.items) == 1
    assert "holds 2 records; the published TruthfulQA.csv holds 817" in probe.warnings[0]
    # an unquoted last column cut short parses: only the missing line break tells
    src = write(tmp_path / "harmful_behaviors.csv", ADV_HEADER + "Do x,Sure here is x\n"
                "Do y,Sure here is")
    with pytest.raises(AuditError) as excinfo:
        read_dataset("advbench", src)
    assert only(excinfo).line == 3
    assert only(excinfo).message == (
        "the file ends inside this record, without a line break: the file may be truncated "
        "(cut inside the record); if it is complete as published, add a line break at its end")


def test_unterminated_quote_at_the_end(tmp_path):
    src = write(tmp_path / "harmful_behaviors.csv",
                ADV_HEADER + adv_rows(3) + 'Cut here,"Sure, here is a cut')
    with pytest.raises(AuditError) as excinfo:
        read_dataset("advbench", src)
    assert only(excinfo).line == 5 and "unexpected end of data" in only(excinfo).message


def test_tsv_and_text_files_without_final_newline(tmp_path):
    src = write(tmp_path / "all_sentences.tsv", "sentid\tsentence\n"
                "nurse.patient.0.male.txt\tThe nurse said he left.\n"
                "nurse.patient.0.female.txt\tThe nurse said she le")
    with pytest.raises(AuditError) as excinfo:
        read_dataset("winogender", src)
    assert only(excinfo).line == 3 and "without a line break" in only(excinfo).message
    text = write(tmp_path / "pro_stereotyped_type1.txt.dev",
                 "1 [The cook] fed the nurse because [he] was kind.\n"
                 "2 The cook fed [the nurse] because [she] was")
    with pytest.raises(AuditError) as excinfo:
        read_dataset("winobias", text)
    assert only(excinfo).line == 2


def test_no_final_newline_accepted_at_the_published_count(tmp_path, monkeypatch):
    src = write(tmp_path / "harmful_behaviors.csv", ADV_HEADER + adv_rows(3).rstrip("\n"))
    entry = PublishedFile("advbench", "harmful_behaviors.csv", 3, source="test")
    monkeypatch.setattr(published_mod, "PUBLISHED", (entry,))
    probe = read_dataset("advbench", src, strict=True)
    assert len(probe.items) == 3 and probe.warnings == ()
    assert any("ends without a line break; it holds the published 3 records" in note
               for note in probe.notes)


def test_record_count_below_published_warns_or_stops_under_strict(tmp_path):
    src = write(tmp_path / "harmful_behaviors.csv", ADV_HEADER + adv_rows(4))
    probe = read_dataset("advbench", src)
    assert probe.warnings == (f"{src}: holds 4 records; the published harmful_behaviors.csv "
                              "holds 520 (Zou et al. 2023 (AdvBench): 520 harmful behaviors) "
                              "(a file cut short, or records removed)",)
    with pytest.raises(AuditError, match="holds 4 records.*stopped by --strict"):
        read_dataset("advbench", src, strict=True)


# the comparison with recorded sizes and digests, and the table's own numbers: test_published.py


def test_print_digest(tmp_path):
    src = write(tmp_path / "harmful_behaviors.csv", ADV_HEADER + adv_rows(2))
    digest = hashlib.sha256(src.read_bytes()).hexdigest()
    assert print_digest("advbench", src) == [
        f'PublishedFile("advbench", "harmful_behaviors.csv", 2, size={src.stat().st_size}, '
        f'sha256="{digest}", source="...")']
    result = CliRunner().invoke(app, ["probes", "import", "advbench", str(src),
                                      "--print-digest"])
    assert result.exit_code == 0 and digest in result.output


# ------------------------------------------------------------------ the command line

def test_cli_exit_2_then_skip_bad_lists_the_record(tmp_path):
    src = write(tmp_path / "harmful_behaviors.csv", ADV_HEADER + adv_rows(2) + "x\n")
    args = ["probes", "import", "advbench", str(src), "--out", str(tmp_path / "out")]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2 and ":4: expected 2 fields" in result.output
    assert not (tmp_path / "out").exists()
    result = CliRunner().invoke(app, [*args, "--skip-bad"])
    assert result.exit_code == 0, result.output
    assert "note: skipped a malformed record:" in result.output
    assert "warning:" in result.output and "holds 3 records" in result.output
    result = CliRunner().invoke(app, [*args, "--skip-bad", "--strict", "--force"])
    assert result.exit_code == 2 and "stopped by --strict" in result.output
