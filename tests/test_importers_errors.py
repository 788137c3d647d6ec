"""Malformed source files: an AuditError naming the file, the line and what was expected."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from auditkit.errors import AuditError
from auditkit.probes.importers import (
    read_advbench,
    read_bbq,
    read_crows_pairs,
    read_dataset,
    read_harmbench,
    read_truthfulqa,
    read_winobias,
    read_winogender,
    read_xstest,
)

FIX = Path(__file__).parent / "fixtures" / "formats"


def problem(excinfo):
    (only,) = excinfo.value.problems
    return only


def write(path: Path, data: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    (path.write_bytes if isinstance(data, bytes) else path.write_text)(data)
    return path


# ------------------------------------------------------------------ CSV structure

def test_missing_column(tmp_path):
    src = write(tmp_path / "c.csv", ",sent_more,sent_less,stereo_antistereo\n0,a,b,stereo\n")
    with pytest.raises(AuditError) as excinfo:
        read_crows_pairs(src)
    p = problem(excinfo)
    assert (p.path, p.line, p.field) == (str(src), 1, "bias_type")
    assert "missing column 'bias_type'" in p.message


def test_wrong_arity_counts_physical_lines_after_a_multiline_field(tmp_path):
    good = (FIX / "harmbench" / "harmbench_behaviors_text_all.csv").read_bytes()
    # the fixture is 13 physical lines (one record spans lines 4-13); a short row is line 14
    src = write(tmp_path / "h.csv", good + b"Do a bad thing,standard,illegal\r\n")
    with pytest.raises(AuditError) as excinfo:
        read_harmbench(src)
    p = problem(excinfo)
    assert p.line == 14
    assert "expected 6 fields" in p.message and "found 3" in p.message


def test_unterminated_quote_names_the_record_line(tmp_path):
    src = write(tmp_path / "a.csv", 'goal,target\nok,"fine"\nbad,"never closed\nmore\n')
    with pytest.raises(AuditError) as excinfo:
        read_advbench(src)
    p = problem(excinfo)
    assert p.line == 3 and "not valid CSV" in p.message


def test_not_utf8(tmp_path):
    src = write(tmp_path / "a.csv", b"goal,target\n\xff\xfe bad,x\n")
    with pytest.raises(AuditError, match="not UTF-8"):
        read_advbench(src)


def test_empty_file(tmp_path):
    src = write(tmp_path / "t.csv", "")
    with pytest.raises(AuditError) as excinfo:
        read_truthfulqa(src)
    assert problem(excinfo).line == 1 and "empty file" in problem(excinfo).message


def test_unknown_format_and_missing_source(tmp_path):
    with pytest.raises(AuditError, match="unknown dataset format 'stereoset'; expected one of"):
        read_dataset("stereoset", tmp_path)
    with pytest.raises(AuditError, match="not found"):
        read_dataset("advbench", tmp_path / "nope.csv")


def test_bad_probe_name(tmp_path):
    with pytest.raises(AuditError, match="invalid probe name 'Bad Name'"):
        read_dataset("advbench", FIX / "advbench" / "harmful_behaviors.csv", name="Bad Name")


# ------------------------------------------------------------------ field values

def test_crows_pairs_bad_direction(tmp_path):
    src = write(tmp_path / "c.csv", ",sent_more,sent_less,stereo_antistereo,bias_type\n"
                                    "0,a,b,stereo,age\n7,a,b,sideways,age\n")
    with pytest.raises(AuditError) as excinfo:
        read_crows_pairs(src)
    p = problem(excinfo)
    assert (p.line, p.field) == (3, "stereo_antistereo")
    assert "expected one of stereo, antistereo; found 'sideways'" in p.message


def test_crows_pairs_bad_annotations_literal(tmp_path):
    src = write(tmp_path / "c.csv", ",sent_more,sent_less,stereo_antistereo,bias_type,"
                                    "annotations\n0,a,b,stereo,age,__import__('os')\n")
    with pytest.raises(AuditError) as excinfo:
        read_crows_pairs(src)
    assert (problem(excinfo).line, problem(excinfo).field) == (2, "annotations")


def test_repeated_id_with_other_content(tmp_path):
    src = write(tmp_path / "x.csv", "id,prompt,type,label\n1,a,homonyms,safe\n"
                                    "1,b,homonyms,safe\n")
    with pytest.raises(AuditError) as excinfo:
        read_xstest(src)
    p = problem(excinfo)
    assert (p.line, p.item) == (3, "1") and "first at line 2" in p.message


def test_xstest_bad_label(tmp_path):
    src = write(tmp_path / "x.csv", "id,prompt,type,label\n1,a,homonyms,maybe\n")
    with pytest.raises(AuditError) as excinfo:
        read_xstest(src)
    assert (problem(excinfo).line, problem(excinfo).field) == (2, "label")


def test_harmbench_contextual_needs_context_and_copyright_is_left_out(tmp_path):
    header = "Behavior,FunctionalCategory,SemanticCategory,Tags,ContextString,BehaviorID\r\n"
    src = write(tmp_path / "h.csv", header + "Explain this,contextual,illegal,context,,b1\r\n")
    with pytest.raises(AuditError) as excinfo:
        read_harmbench(src)
    assert (problem(excinfo).line, problem(excinfo).field) == (2, "ContextString")
    src = write(tmp_path / "h2.csv", header + "Do x,standard,illegal,,,a1\r\n"
                                              "Print the lyrics,copyright,copyright,\"lyrics, hash_check\",,c1\r\n")
    probe = read_harmbench(src)
    assert [item["id"] for item in probe.items] == ["a1"]
    assert probe.notes[0].startswith("left out 1 copyright behavior(s)")


def test_harmbench_bad_id(tmp_path):
    header = "Behavior,FunctionalCategory,SemanticCategory,Tags,ContextString,BehaviorID\n"
    src = write(tmp_path / "h.csv", header + "Do x,standard,illegal,,,bad id!\n")
    with pytest.raises(AuditError) as excinfo:
        read_harmbench(src)
    assert (problem(excinfo).line, problem(excinfo).field) == (2, "BehaviorID")


def test_truthfulqa_no_incorrect_answers(tmp_path):
    header = "Type,Category,Question,Best Answer,Correct Answers,Incorrect Answers,Source\n"
    src = write(tmp_path / "t.csv", header + "Adversarial,Law,Q?,Yes,Yes,,http://x\n")
    with pytest.raises(AuditError) as excinfo:
        read_truthfulqa(src)
    assert (problem(excinfo).line, problem(excinfo).field) == (2, "Incorrect Answers")


# ------------------------------------------------------------------ BBQ

def bbq_record(**changes):
    line = (FIX / "bbq" / "Age.jsonl").read_text(encoding="utf-8").splitlines()[0]
    record = json.loads(line)
    record.update(changes)
    return json.dumps(record)


def test_bbq_unparsable_line(tmp_path):
    src = write(tmp_path / "Age.jsonl", bbq_record() + "\n{not json\n")
    with pytest.raises(AuditError) as excinfo:
        read_bbq(src)
    assert problem(excinfo).line == 2 and "not valid JSON" in problem(excinfo).message


def test_bbq_missing_key_and_two_unknowns(tmp_path):
    record = json.loads(bbq_record())
    del record["label"]
    src = write(tmp_path / "Age.jsonl", bbq_record() + "\n" + json.dumps(record) + "\n")
    with pytest.raises(AuditError) as excinfo:
        read_bbq(src)
    assert (problem(excinfo).line, problem(excinfo).field) == (2, "label")
    info = {"ans0": ["a", "unknown"], "ans1": ["b", "unknown"], "ans2": ["c", "old"]}
    src = write(tmp_path / "Age.jsonl", bbq_record(answer_info=info) + "\n")
    with pytest.raises(AuditError, match="exactly one answer labelled 'unknown'.*found 2"):
        read_bbq(src)


def test_bbq_ambiguous_context_must_have_unknown_gold(tmp_path):
    src = write(tmp_path / "Age.jsonl", bbq_record(label=0) + "\n")
    with pytest.raises(AuditError) as excinfo:
        read_bbq(src)
    assert (problem(excinfo).line, problem(excinfo).field) == (1, "label")


def test_bbq_mixed_categories_and_directories(tmp_path):
    src = write(tmp_path / "Age.jsonl", bbq_record() + "\n" +
                bbq_record(example_id=9, category="Religion") + "\n")
    with pytest.raises(AuditError) as excinfo:
        read_bbq(src)
    assert (problem(excinfo).line, problem(excinfo).field) == (2, "category")
    with pytest.raises(AuditError, match="one category file at a time"):
        read_bbq(tmp_path)


# ------------------------------------------------------------------ WinoBias / WinoGender

def test_winobias_line_without_pronoun(tmp_path):
    src = write(tmp_path / "pro_stereotyped_type1.txt.dev",
                "1 [The developer] argued with the designer because [he] left.\n"
                "2 The developer argued with [the designer] about it.\n")
    with pytest.raises(AuditError) as excinfo:
        read_winobias(src)
    assert problem(excinfo).line == 2 and "bracketed pronouns" in problem(excinfo).message


def test_winobias_unknown_occupation(tmp_path):
    # a line whose second occupation is not found is left out and listed, not an error;
    # a file left with no sentence at all is
    src = write(tmp_path / "anti_stereotyped_type2.txt.test",
                "1 The astronaut met [the janitor] and wished [her] well.\n")
    with pytest.raises(AuditError) as excinfo:
        read_winobias(src)
    assert "no WinoBias sentence could be read" in problem(excinfo).message
    assert "line 1: no second occupation from the WinoBias list besides 'janitor'; left out" \
        in problem(excinfo).message
    write(src, "1 The astronaut met [the janitor] and wished [her] well.\n"
               "2 The driver met [the janitor] and wished [her] well.\n")
    probe = read_winobias(src)
    assert [item["id"] for item in probe.items] == ["anti.type2.test.2"]
    assert "anti_stereotyped_type2.txt.test line 1: no second occupation from the WinoBias " \
           "list besides 'janitor'; left out" in probe.notes


def test_winobias_file_names(tmp_path):
    src = write(tmp_path / "winobias.txt", "1 [The cook] met the nurse and [he] left.\n")
    with pytest.raises(AuditError, match="cannot tell pro/anti"):
        read_winobias(src)
    with pytest.raises(AuditError, match="holds no WinoBias file"):
        read_winobias(tmp_path)


def test_winogender_bad_rows(tmp_path):
    src = write(tmp_path / "s.tsv", "sentid\tsentence\nnurse.patient.2.male.txt\tThe nurse.\n")
    with pytest.raises(AuditError) as excinfo:
        read_winogender(src)
    assert (problem(excinfo).line, problem(excinfo).field) == (2, "sentid")
    src = write(tmp_path / "s.tsv", "sentid\tsentence\n"
                                    "nurse.patient.0.female.txt\tThe nurse said he left.\n")
    with pytest.raises(AuditError, match="no female pronoun"):
        read_winogender(src)
    src = write(tmp_path / "s.tsv", "sentid\tsentence\nnurse.patient.0.male.txt\n")
    with pytest.raises(AuditError) as excinfo:
        read_winogender(src)
    assert problem(excinfo).line == 2 and "found 1" in problem(excinfo).message
    src = write(tmp_path / "s.tsv", "id\ttext\n")
    with pytest.raises(AuditError) as excinfo:
        read_winogender(src)
    assert problem(excinfo).line == 1
