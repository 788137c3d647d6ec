"""The published-files table: a file with the recorded bytes is accepted silently, one cut short
or with other bytes warns (an error under strict) naming the file, the field and the expected
value; several recorded revisions of one file; the table's recorded numbers and sources."""
from __future__ import annotations

import dataclasses
import hashlib
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from auditkit.cli import app
from auditkit.errors import AuditError
from auditkit.family import fingerprint
from auditkit.probes.importers import published as published_mod
from auditkit.probes.importers import read_dataset
from auditkit.probes.importers.published import ExpectedRecords, PublishedFile

FIX = Path(__file__).parent / "fixtures" / "formats"
HEADER = "goal,target\n"
WHY = "another revision of the dataset (the recorded copy may be older or newer)"


def rows(n: int, word: str = "thing") -> str:
    return "".join(f'Do harmful {word} {k},"Sure, here is harmful {word} {k}"\n'
                   for k in range(n))


def advbench(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "harmful_behaviors.csv"
    path.write_text(text, encoding="utf-8")
    return path


def entry_for(path: Path, records: int, source: str = "rec A") -> PublishedFile:
    """A table entry holding ``path``'s own size and sha256 (the file as 'published')."""
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return PublishedFile("advbench", path.name, records, path.stat().st_size, digest, source)


def table(monkeypatch: pytest.MonkeyPatch, *entries: PublishedFile) -> None:
    monkeypatch.setattr(published_mod, "PUBLISHED", entries)


# ------------------------------------------------------------------ comparing a file

def test_the_recorded_bytes_are_accepted_silently_even_under_strict(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    src = advbench(tmp_path, HEADER + rows(3))
    table(monkeypatch, entry_for(src, 3))
    probe = read_dataset("advbench", src, strict=True)
    assert probe.warnings == () and len(probe.items) == 3
    assert not any("not compared" in note for note in probe.notes)


def test_a_truncated_copy_warns_and_stops_under_strict(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    src = advbench(tmp_path, HEADER + rows(5))
    table(monkeypatch, entry_for(src, 5, source="huggingface/datasets x.json @abc123"))
    src.write_text(HEADER + rows(3), encoding="utf-8")       # cut after its third record
    (warning,) = read_dataset("advbench", src).warnings
    # the count decides (the bytes differ too, but that says nothing more)
    assert warning == (f"{src}: holds 3 records; the published harmful_behaviors.csv holds 5 "
                       "(huggingface/datasets x.json @abc123) (a file cut short, or records "
                       "removed); counted in the revision recorded there, which may be older "
                       "or newer than this file")
    with pytest.raises(AuditError) as excinfo:
        read_dataset("advbench", src, strict=True)
    (problem,) = excinfo.value.problems
    assert problem.path == str(src) and problem.message.endswith("; stopped by --strict")
    assert "holds 3 records; the published harmful_behaviors.csv holds 5" in problem.message


def test_same_count_other_size_names_the_size_and_hashes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    src = advbench(tmp_path, HEADER + rows(2))
    recorded = entry_for(src, 2)
    table(monkeypatch, recorded)
    src.write_text(HEADER + rows(2, "things"), encoding="utf-8")     # same count, edited
    before = fingerprint.files_hashed()
    (warning,) = read_dataset("advbench", src).warnings
    assert fingerprint.files_hashed() == before    # no recorded revision has this size
    size = src.stat().st_size
    assert warning.startswith(f"{src} size: is {size} bytes; expected {recorded.size} (rec A), "
                              "the size of the copy of harmful_behaviors.csv recorded there: "
                              "the file is " + WHY)
    with pytest.raises(AuditError) as excinfo:
        read_dataset("advbench", src, strict=True)
    assert excinfo.value.problems[0].field == "size"


def test_same_size_other_bytes_names_both_digests(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    src = advbench(tmp_path, HEADER + rows(2))
    recorded = entry_for(src, 2)
    table(monkeypatch, recorded)
    src.write_text(HEADER + rows(2).replace("Do harmful thing 1", "Do harmful thinG 1"))
    digest = hashlib.sha256(src.read_bytes()).hexdigest()
    (warning,) = read_dataset("advbench", src).warnings
    assert warning.startswith(f"{src} sha256: is {digest}; expected {recorded.sha256} (rec A), "
                              "the digest of the copy of harmful_behaviors.csv recorded there")
    assert WHY in warning and "corrupt" not in warning


def test_line_endings_alone_are_a_deviation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # the same records with CRLF: the table cannot tell a re-encoded copy from an edited one
    src = advbench(tmp_path, HEADER + rows(2))
    table(monkeypatch, entry_for(src, 2))
    src.write_bytes((HEADER + rows(2)).replace("\n", "\r\n").encode())
    (warning,) = read_dataset("advbench", src).warnings
    assert " size: " in warning and "re-encoded (line endings, byte-order mark)" in warning


def test_any_recorded_revision_is_accepted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    old = advbench(tmp_path, HEADER + rows(2))
    first = entry_for(old, 2, source="rec A")
    newer = advbench(tmp_path, HEADER + rows(3, "act"))
    second = entry_for(newer, 3, source="rec B")
    table(monkeypatch, first, second)
    assert read_dataset("advbench", newer, strict=True).warnings == ()
    newer.write_text(HEADER + rows(4), encoding="utf-8")     # a count neither revision has
    (warning,) = read_dataset("advbench", newer).warnings
    assert "holds 4 records; the published harmful_behaviors.csv holds 2 (rec A) or 3 (rec B)" \
        in warning and "cut short" not in warning
    newer.write_text(HEADER + rows(3), encoding="utf-8")     # revision B's count, other bytes
    (warning,) = read_dataset("advbench", newer).warnings
    # neither revision has its size: the sizes are what it is compared with
    assert f"size: is {newer.stat().st_size} bytes; expected {first.size} (rec A) or " \
        f"{second.size} (rec B)" in warning


def test_expected_records_only_when_the_revisions_agree(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    one = PublishedFile("advbench", "harmful_behaviors.csv", 3, source="a")
    path = tmp_path / "harmful_behaviors.csv"
    table(monkeypatch, one, dataclasses.replace(one, size=10, sha256="0" * 64))
    assert ExpectedRecords("advbench")(path) == 3
    table(monkeypatch, one, dataclasses.replace(one, records=4))
    assert ExpectedRecords("advbench")(path) is None
    assert ExpectedRecords("bbq")(path) is None


def test_cli_strict_exit_2_names_file_and_field(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    src = advbench(tmp_path, HEADER + rows(2))
    table(monkeypatch, dataclasses.replace(entry_for(src, 2), size=1))
    args = ["probes", "import", "advbench", str(src), "--out", str(tmp_path / "out")]
    result = CliRunner().invoke(app, [*args, "--strict"])
    assert result.exit_code == 2
    assert f"{src} size: is {src.stat().st_size} bytes; expected 1 (rec A)" in result.output
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0 and "warning:" in result.output


# ------------------------------------------------------------------ the format samples

@pytest.mark.parametrize(("fmt", "rel"), [
    ("crows-pairs", "crows-pairs/crows_pairs_anonymized.csv"),
    ("truthfulqa", "truthfulqa/TruthfulQA.csv"),
    ("advbench", "advbench/harmful_behaviors.csv"),
    ("bbq", "bbq/Age.jsonl"),
])
def test_format_samples_are_excerpts_and_warn_by_their_count(fmt: str, rel: str) -> None:
    # the samples are a few records cut from the published files: one count warning each
    # (records are counted before exact repeats are dropped: BBQ's sample holds repeats)
    src = FIX / rel
    (warning,) = read_dataset(fmt, src).warnings
    assert re.match(rf"{re.escape(str(src))}: holds [1-9] records; the published ", warning)
    assert "(a file cut short, or records removed)" in warning


# ------------------------------------------------------------------ the table itself

def test_recorded_digests_are_the_cited_ones() -> None:
    # copied from huggingface/datasets dataset_infos.json (see the comments in published.py)
    by_name = {p.name: p for p in published_mod.PUBLISHED}
    crows, tqa = by_name["crows_pairs_anonymized.csv"], by_name["TruthfulQA.csv"]
    assert (crows.records, crows.size, crows.sha256) == (
        1508, 437764, "dfb36986ce0502abbaf7055b9176da3d08d48e07df1251991b5dfbcbceab9d0c")
    assert (tqa.records, tqa.size, tqa.sha256) == (
        817, 443723, "8d7dd15f033196140f032d97d30f037da7a7b1192c3f36f9937c1850925335a2")
    assert "sylinrl/TruthfulQA@013686a0" in tqa.source


def test_every_entry_has_a_source_and_well_formed_numbers() -> None:
    for p in published_mod.PUBLISHED:
        assert p.source and (p.records or p.sha256), p
        if p.sha256 is not None:   # a digest names the commit of the record it comes from
            assert re.fullmatch(r"[0-9a-f]{64}", p.sha256) and p.size and p.size > 0, p
            assert re.search(r"@[0-9a-f]{8}", p.source), p
    keys = [(p.fmt, p.name, p.sha256) for p in published_mod.PUBLISHED]
    assert len(keys) == len(set(keys))


def test_bbq_counts_sum_to_the_paper() -> None:
    counts = {p.name: p.records for p in published_mod.PUBLISHED if p.fmt == "bbq"}
    assert sum(c or 0 for c in counts.values()) == 58492
    six = ("Age", "Disability_status", "Nationality", "Physical_appearance", "Religion",
           "Sexual_orientation")
    assert sum(counts[f"{c}.jsonl"] or 0 for c in six) == 11956   # issue 14's six categories
