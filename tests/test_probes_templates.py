"""Template expansion: placeholders, literal braces, product order, types, errors."""
from __future__ import annotations

from pathlib import Path

import pytest
from probes_helpers import header, write

from auditkit.errors import ValidationError
from auditkit.probes import load_probe
from auditkit.probes.templates import TemplateSyntaxError, parse, references, render


def test_parse_placeholders_and_literal_braces() -> None:
    assert parse("a {x} b {y.k} {{c}}") == ("a ", ("x", None), " b ", ("y", "k"), " ", "{",
                                            "c", "}")
    assert references(["{b} {a.k}", {"q": ["{b}", "{c}"]}, 3]) == [
        ("b", None), ("a", "k"), ("c", None)]


@pytest.mark.parametrize("text", ["a { b", "x}", "{1x}", "{a.b.c}", "{ a }"])
def test_parse_rejects_stray_braces(text: str) -> None:
    with pytest.raises(TemplateSyntaxError, match="literal brace"):
        parse(text)


def test_render_keeps_the_type_of_a_lone_placeholder() -> None:
    binding = {"ans": {"gold": 2, "text": "x"}, "n": 3}
    assert render("{ans.gold}", binding) == 2
    assert render("gold {ans.gold}", binding) == "gold 2"
    assert render("{n}", binding) == 3
    assert render("{{{n}}}", binding) == "{3}"


def _choice_spec(template: str) -> str:
    return header(kind="choice") + template


def test_choice_template_lists_numbers_and_product_order(tmp_path: Path) -> None:
    spec = _choice_spec("""\
slots:
  a: [x, y]
  b:
    - {word: one, gold: 0}
    - {word: two, gold: 1}
templates:
  - id: "t-{b.word}-{a}"
    item:
      context: "{a} said {{hi}}."
      question: "Which {b.word}?"
      options: ["{a}", "not {a}", "unknown"]
      gold: "{b.gold}"
      bias_target: 2
""")
    probe = load_probe(write(tmp_path / "c.yaml", spec))
    # slots vary in order of first mention (b in the id, then a), the last fastest
    assert [i.id for i in probe.items] == ["t-one-x", "t-one-y", "t-two-x", "t-two-y"]
    item = probe.item("t-two-y")
    assert (item.context, item.question, item.options, item.gold, item.bias_target) == (
        "y said {hi}.", "Which two?", ("y", "not y", "unknown"), 1, 2)


def test_template_without_placeholders_in_id_gives_duplicate_ids(tmp_path: Path) -> None:
    spec = header() + """\
templates:
  - id: same
    slots: {g: [he, she]}
    item: {stereotype: "{g} is x.", anti_stereotype: "{g} is y."}
"""
    with pytest.raises(ValidationError) as err:
        load_probe(write(tmp_path / "t.yaml", spec))
    [problem] = err.value.problems
    assert (problem.item, problem.field, problem.line) == ("same", "id", 9)
    assert "duplicate id" in problem.message


def _problems(tmp_path: Path, body: str) -> list[str]:
    with pytest.raises(ValidationError) as err:
        load_probe(write(tmp_path / "t.yaml", header() + body))
    return [f"{p.line} {p.field}: {p.message}" for p in err.value.problems]


def test_slot_with_no_fillers(tmp_path: Path) -> None:
    assert _problems(tmp_path, """\
slots: {g: []}
templates:
  - id: "x-{g}"
    item: {stereotype: "{g} a.", anti_stereotype: "{g} b."}
""") == ["10 templates[0]: placeholder {g}: slot 'g' has no fillers"]


def test_placeholder_key_a_filler_lacks_and_unknown_slot(tmp_path: Path) -> None:
    found = _problems(tmp_path, """\
slots:
  g: [{name: he}, {name: she, pron: her}]
templates:
  - id: "x-{g.name}"
    item: {stereotype: "{g.pron} a.", anti_stereotype: "{h} b."}
  - id: "y-{g}"
    item: {stereotype: "{g.name} a.", anti_stereotype: "{g.name} b."}
""")
    assert found == [
        "11 templates[0]: placeholder {g.pron}: filler 0 of slot 'g' lacks the key 'pron' "
        "(it has: name)",
        "11 templates[0]: placeholder {h} names no slot; slots defined: g",
        "13 templates[1]: placeholder {g}: filler 0 of slot 'g' is a mapping; expected "
        "{slot.key} with one of: name",
    ]


def test_template_structure_problems(tmp_path: Path) -> None:
    found = _problems(tmp_path, """\
slots:
  ok: [a]
  bad: yes
templates:
  - id: "x-{ok}"
    when: always
    item: {id: no, stereotype: "{ok} {", anti_stereotype: "b", colour: red}
  - "just a string"
""")
    assert found == [
        "10 slots.bad: expected a list of fillers, found a boolean (true)",
        "13 templates[0].when: unknown key in a template; expected one of: id, item, slots",
        "14 templates[0].item.id: the id of a template's items goes on the template, not in "
        "its item",
        "14 templates[0].item.colour: unknown key in a pair item; expected one of: "
        "anti_stereotype, group, id, meta, stereotype",
        "12 templates[0]: stray '{' at character 6 of '{ok} {'; expected {slot} or "
        "{slot.key}, and {{ or }} for a literal brace",
        "11 templates[1]: expected a template mapping (id, slots, item), found a string "
        "('just a string')",
    ]


def test_item_problems_after_expansion_are_reported_once(tmp_path: Path) -> None:
    found = _problems(tmp_path, """\
slots: {g: [a, b, c]}
templates:
  - id: "x-{g}"
    item: {stereotype: "{g} same", anti_stereotype: "{g} same", group: 3}
""")
    assert found == [
        "11 group: expected a string, found a number (3) (and in 2 more expanded items)",
        "11 anti_stereotype: stereotype and anti_stereotype are the same sentence; expected two "
        "that differ in the group mentioned (and in 2 more expanded items)"]


def test_fillers_from_file_problems_point_into_the_file(tmp_path: Path) -> None:
    write(tmp_path / "_f.yaml", "- ok\n- true\n- [nested]\n")
    write(tmp_path / "_g.yaml", "key: not a list\n")
    found = _problems(tmp_path, """\
slots: {f: {file: _f.yaml}, g: {file: _g.yaml}, h: {file: _missing.yaml}}
templates:
  - id: "x-{f}-{g}-{h}"
    item: {stereotype: "a", anti_stereotype: "b"}
""")
    assert found == [
        "None [1]: expected a string, a number or a mapping, found a boolean (true); quote it "
        "(YAML reads yes/no/true/false as booleans)",
        "None [2]: expected a string, a number or a mapping, found a list",
        "None None: expected a list of slot fillers, found a mapping",
        "8 slots.h: slot file " + repr(str(tmp_path / "_missing.yaml")) + " not found",
    ]
