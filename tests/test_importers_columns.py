"""Swapped or mislabelled columns are caught by content checks; HarmBench prompts are byte for
byte the ones HarmBench's DirectRequest baseline builds."""
from __future__ import annotations

import csv
from pathlib import Path

import pytest

from auditkit.errors import AuditError
from auditkit.probes.importers import read_dataset

FIX = Path(__file__).parent / "fixtures" / "formats"
OWN = Path(__file__).parent / "fixtures" / "importers"
SAMPLES = Path("/work/shared/format-samples")


def write(path: Path, data: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    (path.write_bytes if isinstance(data, bytes) else path.write_text)(data)
    return path


def message(excinfo: pytest.ExceptionInfo[AuditError]) -> tuple[str, str | None, str]:
    (problem,) = excinfo.value.problems
    return problem.path, problem.field, problem.message


def swap_header(src: Path, dest: Path, old: bytes, new: bytes) -> Path:
    data = src.read_bytes()
    assert data.count(old) >= 1
    return write(dest, data.replace(old, new, 1))


def test_advbench_swapped_headers(tmp_path):
    src = swap_header(FIX / "advbench" / "harmful_behaviors.csv",
                      tmp_path / "harmful_behaviors.csv", b"goal,target", b"target,goal")
    with pytest.raises(AuditError) as excinfo:
        read_dataset("advbench", src)
    path, field, text = message(excinfo)
    assert (path, field) == (str(src), "goal")
    assert text.startswith("columns 'goal' and 'target' look swapped or mislabelled: 3 of 3 "
                           "goals and 0 of 3 targets start like a target")


def test_advbench_target_column_that_is_not_targets(tmp_path):
    src = write(tmp_path / "a.csv", "goal,target\nDo a bad thing,Do another bad thing\n")
    with pytest.raises(AuditError, match="0 of 1 targets start like a target"):
        read_dataset("advbench", src)


def test_truthfulqa_correct_and_incorrect_swapped(tmp_path):
    src = swap_header(FIX / "truthfulqa" / "TruthfulQA.csv", tmp_path / "TruthfulQA.csv",
                      b"Correct Answers,Incorrect Answers", b"Incorrect Answers,Correct Answers")
    with pytest.raises(AuditError) as excinfo:
        read_dataset("truthfulqa", src)
    path, field, text = message(excinfo)
    assert field == "Correct Answers"
    assert "among the 'Correct Answers' in 0 and among the 'Incorrect Answers' in 2 of 2" in text


def test_truthfulqa_question_column_swapped(tmp_path):
    src = swap_header(FIX / "truthfulqa" / "TruthfulQA.csv", tmp_path / "TruthfulQA.csv",
                      b"Question,Best Answer", b"Best Answer,Question")
    with pytest.raises(AuditError, match="only 0 of 2 'Question' cells end with"):
        read_dataset("truthfulqa", src)


def test_harmbench_behavior_and_context_swapped(tmp_path):
    src = swap_header(FIX / "harmbench" / "harmbench_behaviors_text_all.csv",
                      tmp_path / "h.csv", b"Behavior,", b"ContextString,")
    data = src.read_bytes().replace(b",ContextString,BehaviorID", b",Behavior,BehaviorID", 1)
    write(src, data)
    with pytest.raises(AuditError) as excinfo:
        read_dataset("harmbench", src)
    path, field, text = message(excinfo)
    assert field == "ContextString" and "'Behavior' is longer than the 'ContextString'" in text


def test_harmbench_semantic_category_checked(tmp_path):
    header = "Behavior,FunctionalCategory,SemanticCategory,Tags,ContextString,BehaviorID\r\n"
    src = write(tmp_path / "h.csv", header + "Do x,standard,\"a, b\",illegal,,b1\r\n")
    with pytest.raises(AuditError, match="expected a SemanticCategory in lower_snake_case"):
        read_dataset("harmbench", src)


def test_xstest_label_contradicting_type(tmp_path):
    src = write(tmp_path / "x.csv", "id,prompt,type,label\n1,How do I kill time?,homonyms,"
                                    "unsafe\n")
    with pytest.raises(AuditError) as excinfo:
        read_dataset("xstest", src)
    assert message(excinfo)[2] == ("label 'unsafe' contradicts type 'homonyms' (unsafe types "
                                   "start with 'contrast_'); expected matching 'label' and "
                                   "'type' columns")
    src = write(tmp_path / "x.csv", "id,type,prompt,label\n1,How do I kill time?,homonyms,"
                                    "safe\n")
    with pytest.raises(AuditError, match="expected a type in lower_snake_case"):
        read_dataset("xstest", src)


def test_winobias_pro_file_that_reads_anti(tmp_path):
    text = (OWN / "winobias" / "anti_stereotyped_type1.txt.test").read_text()
    src = write(tmp_path / "pro_stereotyped_type1.txt.test", text)
    with pytest.raises(AuditError) as excinfo:
        read_dataset("winobias", src)
    assert message(excinfo)[2] == (
        "reads as anti-stereotyped: in 2 of 2 lines the pronoun's gender goes against the "
        "referent's occupational stereotype; expected a pro_stereotyped file (file renamed or "
        "mislabelled?)")


def test_honest_columns_swapped(tmp_path):
    lines = (OWN / "honest" / "en_template.tsv").read_text().splitlines()
    swapped = ["\t".join([f[1], f[0], *f[2:]]) for f in (line.split("\t") for line in lines)]
    src = write(tmp_path / "en_template.tsv", "\n".join(swapped) + "\n")
    with pytest.raises(AuditError, match="expected the header"):
        read_dataset("honest", src)
    rows = [lines[0]] + ["\t".join([f[1], f[0], *f[2:]])
                         for f in (line.split("\t") for line in lines[1:])]
    src = write(tmp_path / "en_template.tsv", "\n".join(rows) + "\n")
    with pytest.raises(AuditError) as excinfo:
        read_dataset("honest", src, lexicon=OWN / "lexicon" / "hurtlex_test.tsv")
    assert message(excinfo)[1] == "identity"


# ------------------------------------------------------------------ HarmBench prompts

def direct_request(path: Path) -> dict[str, str]:
    """HarmBench's DirectRequest test cases (baselines/direct_request): the CSV read with
    csv.DictReader, ``if context_str: f"{context_str}\\n\\n---\\n\\n{behavior}"``."""
    with open(path, encoding="utf-8") as handle:     # as HarmBench opens it
        rows = list(csv.DictReader(handle))
    return {row["BehaviorID"]: (f"{row['ContextString']}\n\n---\n\n{row['Behavior']}"
                                if row["ContextString"] else row["Behavior"])
            for row in rows if row["FunctionalCategory"] != "copyright"}


def test_harmbench_prompts_byte_equal_with_surrounding_whitespace(tmp_path):
    header = "Behavior,FunctionalCategory,SemanticCategory,Tags,ContextString,BehaviorID\r\n"
    src = write(tmp_path / "h.csv", header
                + '"Summarize it ",contextual,illegal,context,"  Line one\n\nline two \n",b1\r\n'
                + "Do a bad thing ,standard,illegal,,,b2\r\n")
    prompts = {item["id"]: item["prompt"] for item in read_dataset("harmbench", src).items}
    assert prompts == direct_request(src)
    assert prompts["b1"] == "  Line one\n\nline two \n\n\n---\n\nSummarize it "
    # a CRLF inside a context reads as LF, as in HarmBench's universal-newline reading
    crlf = write(tmp_path / "crlf.csv", (header + '"Summarize it",contextual,illegal,,'
                                         '"One line\r\nTwo lines of text",b3\r\n').encode())
    prompts = {item["id"]: item["prompt"] for item in read_dataset("harmbench", crlf).items}
    assert prompts == direct_request(crlf) == {
        "b3": "One line\nTwo lines of text\n\n---\n\nSummarize it"}


@pytest.mark.skipif(not SAMPLES.is_dir(), reason="the format samples are not on this machine")
def test_harmbench_sample_prompts_byte_equal():
    src = SAMPLES / "harmbench" / "harmbench_behaviors_text_all.csv"
    prompts = {item["id"]: item["prompt"] for item in read_dataset("harmbench", src).items}
    assert prompts == direct_request(src) and len(prompts) == 6
