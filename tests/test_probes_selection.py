"""Selections: deterministic SHA-256 ranking, first glob wins, resolution by name or path."""
from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from probes_helpers import PAIR_ITEMS, header, write

from auditkit.errors import AuditError, ValidationError
from auditkit.probes import Selection, apply_selection, load_probes, load_selection
from auditkit.types import PairItem, Probe


def _probe(name: str, n: int) -> Probe:
    items = tuple(PairItem(f"i{k}", f"s{k}", f"a{k}") for k in range(n))
    return Probe(name=name, version="v" + name, kind="pair", category="bias",
                 dimension="gender", description="", source="", license="", items=items)


def _rank(name: str, item_id: str) -> str:
    return hashlib.sha256(f"{name}/{item_id}".encode()).hexdigest()


def test_first_n_by_sha256_kept_in_probe_order() -> None:
    probe = _probe("bias.a", 10)
    [chosen] = apply_selection([probe], Selection("s", "", (("bias.*", 3),)))
    expected = set(sorted((f"i{k}" for k in range(10)), key=lambda i: _rank("bias.a", i))[:3])
    assert {i.id for i in chosen.items} == expected
    assert [i.id for i in chosen.items] == [i.id for i in probe.items if i.id in expected]
    assert chosen.version == probe.version  # a subset of the same version's items


def test_first_matching_glob_wins_and_unmatched_probes_are_dropped() -> None:
    probes = [_probe("bias.a", 5), _probe("bias.b", 5), _probe("safety.c", 5)]
    selection = Selection("s", "", (("bias.b", 1), ("bias.*", 2), ("other.*", 9)))
    chosen = apply_selection(probes, selection)
    assert [(p.name, len(p.items)) for p in chosen] == [("bias.a", 2), ("bias.b", 1)]
    big = apply_selection(probes, Selection("s", "", (("*", 50),)))
    assert [len(p.items) for p in big] == [5, 5, 5]


def test_adding_items_changes_a_selection_by_at_most_one_item() -> None:
    small, large = _probe("bias.a", 40), _probe("bias.a", 41)
    selection = Selection("s", "", (("*", 10),))
    before = {i.id for i in apply_selection([small], selection)[0].items}
    after = {i.id for i in apply_selection([large], selection)[0].items}
    assert len(before - after) <= 1 and len(after - before) <= 1
    assert ("i40" in after) == (before != after)


def test_load_probes_with_a_selection_name_or_path(tmp_path: Path) -> None:
    write(tmp_path / "a.yaml", header(name="bias.a") + PAIR_ITEMS)
    write(tmp_path / "selections" / "one.yml", "name: one\ndescription: d\nprobes: {'*': 1}\n")
    write(tmp_path.parent / (tmp_path.name + "-sel") / "two.yaml",
          "name: two\nprobes: {'bias.a': 2}\n")
    assert [len(p.items) for p in load_probes(tmp_path, selection="one")] == [1]
    assert [len(p.items) for p in load_probes(tmp_path, selection=str(tmp_path) + "-sel/two.yaml")
            ] == [2]
    # a single file looks for selections beside it
    assert [len(p.items) for p in load_probes(tmp_path / "a.yaml", selection="one")] == [1]
    with pytest.raises(AuditError, match="no selection named 'quick'; known: one"):
        load_probes(tmp_path, selection="quick")


def test_load_selection(tmp_path: Path) -> None:
    path = write(tmp_path / "q.yaml", "name: quick\ndescription: demo\nprobes:\n"
                 "  'bias.*': 24\n  'safety.*': 40\n")
    selection = load_selection(path)
    assert (selection.name, selection.description, selection.probes) == (
        "quick", "demo", (("bias.*", 24), ("safety.*", 40)))
    assert selection.count_for("safety.harmful") == 40 and selection.count_for("x") is None
    bad = write(tmp_path / "b.yaml", "name: Q\nprobes: {'a': -1, 'b': x}\n")
    with pytest.raises(ValidationError) as err:
        load_selection(bad)
    assert [(p.line, p.field) for p in err.value.problems] == [
        (1, "name"), (2, "probes.a"), (2, "probes.b")]
