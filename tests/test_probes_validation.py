"""Validation: every kind of problem, all reported at once, with the right lines; the CLI."""
from __future__ import annotations

from pathlib import Path

import pytest
from probes_helpers import GENERATION_ITEMS, PAIR_ITEMS, header, write
from typer.testing import CliRunner

from auditkit.cli import app
from auditkit.errors import ValidationError
from auditkit.probes import load_probe, load_probes, validate_probes


@pytest.fixture(autouse=True)
def _cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUDITKIT_CACHE_DIR", str(tmp_path / "cache"))


def _found(path: Path) -> list[tuple[int | None, str | None, str | None, str]]:
    """(line, item, field, message) of every problem under ``path``."""
    return [(p.line, p.item, p.field, p.message) for p in validate_probes(path)]


def test_many_problems_in_one_file_reported_together(tmp_path: Path) -> None:
    spec = write(tmp_path / "bad.yaml", """\
name: Bad Name
kind: choice
category: bias
dimension: age
source: written for auditkit
license: 7
colour: blue
scoring:
  normalize: tokens
  temperature: 0.5
items:
  - id: c1
    question: "Who?"
    options: [a, b]
    gold: 2
    bias_target: -1
  - id: c1
    question: ""
    options: [only]
    gold: "0"
    extra: true
  - id: "bad id"
    context: 5
    question: Q
    options: [a, a]
    gold: 0
""")
    assert _found(spec) == [
        (7, None, "colour", "unknown key in a probe spec; expected one of: category, "
         "description, dimension, items, items_file, kind, license, name, scoring, slots, "
         "source, templates"),
        (1, None, "name", "expected a name matching [a-z0-9][a-z0-9_.-]*, found 'Bad Name'"),
        (1, None, "description", "missing; expected a string"),
        (6, None, "license", "expected a non-empty string, found a number (7)"),
        (10, None, "scoring.temperature", "unknown key in scoring of a choice probe; expected "
         "one of: normalize, option_prefix, prompt"),
        (9, None, "scoring.normalize", "expected one of: none, chars; found a string ('tokens')"),
        (15, "c1", "gold", "index 2 is out of range; expected 0..1 (2 options)"),
        (16, "c1", "bias_target", "index -1 is out of range; expected 0..1 (2 options)"),
        (21, "c1", "extra", "unknown key in a choice item; expected one of: also_true, "
         "bias_target, context, gold, group, id, meta, options, question"),
        (18, "c1", "question", "expected a non-empty string, found a string ('')"),
        (19, "c1", "options", "expected at least 2 options, found 1"),
        (20, "c1", "gold", "expected an integer, found a string ('0')"),
        (22, None, "id", "expected an id matching [A-Za-z0-9][A-Za-z0-9_.:-]*, found a string "
         "('bad id')"),
        (23, None, "context", "expected a string, found a number (5)"),
        (25, None, "options", "options repeat; expected distinct options"),
        (17, "c1", "id", "duplicate id (first at line 12); expected ids unique within the probe"),
    ]
    with pytest.raises(ValidationError) as err:
        load_probe(spec)
    assert len(err.value.problems) == 16


def test_unknown_kind_detector_and_bad_detector_args(tmp_path: Path) -> None:
    """The deprecated detector keys are checked as the judge keys they stand for."""
    write(tmp_path / "k.yaml", header(name="a.kind", kind="ranking") + PAIR_ITEMS)
    write(tmp_path / "d.yaml", header(name="a.det", kind="generation")
          + "scoring: {detector: llama_guard}\n" + GENERATION_ITEMS)
    write(tmp_path / "r.yaml", header(name="a.regex", kind="generation")
          + "scoring:\n  detector: regex\n  detector_args: {pattern: '(', flags: iz, x: 1}\n"
          + "  system: [1]\n" + GENERATION_ITEMS)
    assert _found(tmp_path) == [
        (8, None, "scoring.detector", "unknown detector 'llama_guard'; expected one of: "
         "refusal, regex (deprecated: use scoring.judge)"),
        (2, None, "kind", "expected one of: pair, choice, generation; found a string "
         "('ranking')"),
        (10, None, "scoring.detector_args", "unknown argument 'x'; expected pattern, flags"),
        (10, None, "scoring.detector_args", "flags: expected letters from 'ims', found 'iz'"),
        (10, None, "scoring.detector_args", "pattern: not a valid regular expression "
         "(missing ), unterminated subpattern at position 0)"),
        (11, None, "scoring.system", "expected a string or null, found a list"),
    ]


def test_bad_judge_keys(tmp_path: Path) -> None:
    write(tmp_path / "j.yaml", header(name="a.judge", kind="generation")
          + "scoring:\n  judge: gpt-4\n  judge_args: [1]\n  record_harmful: yes please\n"
          + GENERATION_ITEMS)
    write(tmp_path / "f.yaml", header(name="a.fail", kind="generation")
          + "scoring:\n  judge: heuristic\n  judge_args: {window: 3}\n"
          + "  fail_on:\n    refuse: [full_compliance, full_compliance]\n"
          + "    comply: [refused]\n    sometimes: []\n" + GENERATION_ITEMS)
    write(tmp_path / "m.yaml", header(name="a.mix", kind="generation")
          + "scoring: {judge: regex, detector: regex, fail_on: [full_refusal]}\n"
          + GENERATION_ITEMS)
    found = _found(tmp_path)
    assert found[:4] == [
        (10, None, "scoring.judge_args", "unknown argument 'window' of judge 'heuristic'; "
         "this judge takes none"),
        (12, None, "scoring.fail_on.refuse", "expected distinct labels from: full_compliance, "
         "partial_refusal, full_refusal, harmful_compliance; found full_compliance, "
         "full_compliance"),
        (13, None, "scoring.fail_on.comply", "expected distinct labels from: full_compliance, "
         "partial_refusal, full_refusal, harmful_compliance; found refused"),
        (14, None, "scoring.fail_on.sometimes", "unknown expectation; expected one of: refuse, "
         "comply"),
    ]
    assert found[4][2] == "scoring.judge"
    assert found[4][3].startswith("unknown judge 'gpt-4'; expected one of: ")
    assert {"default", "heuristic", "regex", "llama-guard"} <= set(
        found[4][3].split(": ", 1)[1].split(", "))             # the registered judges
    assert found[5][2:] == ("scoring.judge_args", "expected a mapping, found a list")
    assert found[6][2:] == ("scoring.record_harmful", "expected true or false, found a string "
                            "('yes please')")
    assert [f[2:] for f in found[7:]] == [
        ("scoring.detector", "give scoring.judge, not the deprecated scoring.detector as well"),
        ("scoring.judge_args", "pattern: expected a non-empty regular expression string"),
        ("scoring.fail_on", "expected a mapping of refuse and comply to lists of labels, found "
                            "a list")]


def test_item_sources_missing_fields_and_wrong_top_level(tmp_path: Path) -> None:
    write(tmp_path / "none.yaml", header(name="a.none"))
    write(tmp_path / "two.yaml", header(name="a.two") + "items_file: x.jsonl\n" + PAIR_ITEMS)
    write(tmp_path / "empty.yaml", header(name="a.empty") + "items: []\n")
    write(tmp_path / "list.yaml", "- a\n- b\n")
    write(tmp_path / "miss.yaml", header(name="a.miss", kind="generation")
          + "items:\n  - id: g1\n  - id: g2\n    prompt: p\n    expect: refuse\n    meta: 3\n")
    found = {Path(p.path).name: (p.line, p.field, p.message) for p in validate_probes(tmp_path)
             if Path(p.path).name != "miss.yaml"}
    assert found == {
        "none.yaml": (1, "items", "expected exactly one of items, items_file, templates; "
                      "found none"),
        "two.yaml": (8, "items", "expected exactly one of items, items_file, templates; found "
                     "items, items_file"),
        "empty.yaml": (8, "items", "the probe has no items; expected at least one"),
        "list.yaml": (None, None, "expected a probe spec (a mapping with name, kind, category, "
                      "dimension, description, source, license), found a list"),
    }
    assert _found(tmp_path / "miss.yaml") == [
        (9, "g1", "prompt", "missing; expected a string"),
        (9, "g1", "expect", "missing; expected one of: refuse, comply"),
        (13, "g2", "meta", "expected a mapping, found a number (3)"),
    ]


def test_pair_items_must_differ(tmp_path: Path) -> None:
    path = write(tmp_path / "p.yaml", header() + "items:\n  - {id: p, stereotype: s, "
                 "anti_stereotype: s}\n")
    assert _found(path) == [(9, "p", "anti_stereotype", "stereotype and anti_stereotype are "
                             "the same sentence; expected two that differ in the group "
                             "mentioned")]


def test_jsonl_problems_carry_the_jsonl_line(tmp_path: Path) -> None:
    (tmp_path / "items.jsonl").write_text(
        '{"id": "a", "prompt": "x", "expect": "refuse"}\n'
        "\n"
        '{"id": "b", "prompt": "x", "expect": "refuse", "id": "c"}\n'
        "{not json}\n"
        '{"id": "a", "prompt": "y", "expect": "never"}\n'
        '"a string"\n', encoding="utf-8")
    path = write(tmp_path / "g.yaml", header(kind="generation") + "items_file: items.jsonl\n")
    problems = validate_probes(path)
    assert {Path(p.path).name for p in problems} == {"items.jsonl"}
    assert [(p.line, p.item, p.field, p.message) for p in problems] == [
        (3, None, "id", "duplicate key 'id'"),
        (4, None, None, "not valid JSON: Expecting property name enclosed in double quotes "
         "(column 2)"),
        (5, "a", "expect", "expected one of: refuse, comply; found a string ('never')"),
        (None, None, "items", "expected an item mapping, found a string ('a string')"),
        (5, "a", "id", "duplicate id (first at line 1); expected ids unique within the probe"),
    ]


def test_missing_items_file(tmp_path: Path) -> None:
    path = write(tmp_path / "g.yaml", header(kind="generation") + "items_file: nope.jsonl\n")
    [(line, _, field, message)] = _found(path)
    assert (line, field) == (8, "items_file") and message.endswith("nope.jsonl' not found")


def test_yaml_syntax_error_and_duplicate_keys(tmp_path: Path) -> None:
    write(tmp_path / "syntax.yaml", header(name="a.syntax") + "items: [\n  {id: x\n")
    write(tmp_path / "dup.yaml", header(name="a.dup") + "name: again\n" + PAIR_ITEMS)
    found = {Path(p.path).name: (p.line, p.field, p.message) for p in validate_probes(tmp_path)}
    assert found["dup.yaml"] == (8, "name", "duplicate key 'name' (first at line 1)")
    assert found["syntax.yaml"][0] == 10 and found["syntax.yaml"][2].startswith("not valid YAML")


def test_probe_name_used_twice_in_a_battery(tmp_path: Path) -> None:
    write(tmp_path / "a" / "one.yaml", header(name="bias.same") + PAIR_ITEMS)
    write(tmp_path / "b" / "two.yaml", "# a comment\n" + header(name="bias.same") + PAIR_ITEMS)
    [problem] = validate_probes(tmp_path)
    assert problem.path == str(tmp_path / "b" / "two.yaml")
    assert (problem.line, problem.field) == (2, "name")
    assert problem.message == (f"probe name 'bias.same' is already used by "
                               f"{tmp_path / 'a' / 'one.yaml'}; expected names unique in the "
                               "battery")
    with pytest.raises(ValidationError):
        load_probes(tmp_path)


def test_selection_files_are_validated(tmp_path: Path) -> None:
    write(tmp_path / "a.yaml", header(name="bias.a") + PAIR_ITEMS)
    write(tmp_path / "selections" / "quick.yaml",
          "name: quick\nprobes:\n  'bias.*': 2\n  'safety.*': 3\n  'bias.a': 1\n")
    write(tmp_path / "selections" / "bad.yaml", "name: bad\nprobes: {'*': 0}\nsize: 3\n")
    found = [(Path(p.path).name, p.line, p.field, p.message) for p in validate_probes(tmp_path)]
    assert found == [
        ("bad.yaml", 3, "size", "unknown key in a selection; expected one of: description, "
         "name, probes"),
        ("bad.yaml", 2, "probes.*", "expected a glob and a positive item count, found '*': a "
         "number (0)"),
        ("quick.yaml", 4, "probes.safety.*", "glob 'safety.*' selects no probe of the battery "
         "(none matches, or an earlier glob takes them)"),
        ("quick.yaml", 5, "probes.bias.a", "glob 'bias.a' selects no probe of the battery "
         "(none matches, or an earlier glob takes them)"),
    ]


# ---------------------------------------------------------------- CLI

runner = CliRunner()


def test_cli_validate_exit_codes(tmp_path: Path) -> None:
    good = tmp_path / "good"
    write(good / "a.yaml", header(name="bias.a") + PAIR_ITEMS)
    write(good / "b.yaml", header(name="safety.b", kind="generation") + GENERATION_ITEMS)
    result = runner.invoke(app, ["probes", "validate", str(good)])
    assert result.exit_code == 0, result.output
    assert f"OK: 2 probes, 4 items in {good}" in result.stdout

    bad = tmp_path / "bad"
    write(bad / "a.yaml", header(name="bias.a") + PAIR_ITEMS.replace("group: women", "grp: w"))
    write(bad / "c.yaml", header(name="bias.c", kind="choice")
          + "items:\n  - {id: x, question: q, options: [a, b], gold: 5}\n")
    result = runner.invoke(app, ["probes", "validate", str(bad)])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert lines == [
        f"error: {bad / 'a.yaml'}:12 [item p1] grp: unknown key in a pair item; expected one "
        "of: anti_stereotype, group, id, meta, stereotype",
        f"error: {bad / 'c.yaml'}:9 [item x] gold: index 5 is out of range; expected 0..1 "
        "(2 options)",
        "2 problems in 2 files",
    ]
    assert "Traceback" not in result.output
    assert runner.invoke(app, ["probes", "validate", str(tmp_path / "missing")]).exit_code == 2


def test_cli_list_and_show(tmp_path: Path) -> None:
    write(tmp_path / "a.yaml", header(name="bias.a") + PAIR_ITEMS)
    write(tmp_path / "b.yaml", header(name="safety.b", kind="generation", category="safety",
                                      dimension="harmful") + GENERATION_ITEMS)
    write(tmp_path / "selections" / "one.yaml", "name: one\nprobes: {'*': 1}\n")
    result = runner.invoke(app, ["probes", "list", str(tmp_path), "--category", "safety"])
    assert result.exit_code == 0, result.output
    version = load_probe(tmp_path / "b.yaml").version
    assert result.stdout.splitlines()[:2] == [
        "name      kind        category  dimension  items  version",
        f"safety.b  generation  safety    harmful        2  {version}"]
    assert "bias.a" not in result.stdout
    assert "1 probes, 2 items" in result.stdout
    result = runner.invoke(app, ["probes", "list", str(tmp_path), "--selection", "one"])
    assert "2 probes, 2 items" in result.stdout

    result = runner.invoke(app, ["probes", "show", "bias.a", "--path", str(tmp_path), "-n", "1"])
    assert result.exit_code == 0, result.output
    assert "name: bias.a\n" in result.stdout and "first 1 of 2 items:" in result.stdout
    assert "id: p1" in result.stdout and "id: p2" not in result.stdout
    result = runner.invoke(app, ["probes", "show", "bias.b", "--path", str(tmp_path)])
    assert result.exit_code == 2 and "did you mean bias.a" in result.stderr
