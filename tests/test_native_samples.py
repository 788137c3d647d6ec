"""The item attributes of probes imported from the published formats (the format samples):
what the native metrics read from each importer's items."""
from __future__ import annotations

from pathlib import Path

import pytest

from auditkit.analyze.native import item_table
from auditkit.probes import load_probes
from auditkit.probes.importers import read_dataset, write_probe

SAMPLES = Path("/work/shared/format-samples")
pytestmark = pytest.mark.skipif(not SAMPLES.is_dir(), reason="format samples not present")


def _items(tmp_path: Path, fmt: str, src: str):
    write_probe(read_dataset(fmt, SAMPLES / src), tmp_path)
    return item_table(load_probes(tmp_path)).set_index("item")


def test_bbq_sample_conditions_unknown_and_biased_answers(tmp_path: Path) -> None:
    age = _items(tmp_path / "age", "bbq", "bbq/Age.jsonl")
    assert list(age.index) == ["0", "1", "2", "3", "5", "7"]      # two exact repeats dropped
    assert set(age["benchmark"]) == {"bbq"} and set(age["subset"]) == {"Age"}
    assert list(age["condition"]) == ["ambig", "disambig", "ambig", "disambig", "disambig",
                                      "disambig"]
    assert set(age["unknown"]) == {2}
    # negative questions: the "old" person (ans0); non-negative: the other person (ans1)
    assert list(age["biased"]) == [0b001, 0b001, 0b010, 0b010, 0b001, 0b010]
    religion = _items(tmp_path / "religion", "bbq", "bbq/Religion.jsonl")
    assert list(religion["unknown"]) == [1, 1, 1, 1, 2, 2]
    # stereotyped group Muslim: ans2 (then ans1) for negative questions, Jewish otherwise
    assert list(religion["biased"]) == [0b100, 0b100, 0b001, 0b001, 0b010, 0b001]


def test_other_samples_subsets_and_conditions(tmp_path: Path) -> None:
    crows = _items(tmp_path / "c", "crows-pairs", "crows-pairs/crows_pairs_anonymized.csv")
    assert set(crows["benchmark"]) == {"crows_pairs"} and "race-color" in set(crows["subset"])
    wino = _items(tmp_path / "w", "winobias", "winobias")
    assert set(wino["subset"]) == {"type1", "type2"} and set(wino["condition"]) == {"pro",
                                                                                    "anti"}
    gender = _items(tmp_path / "g", "winogender", "winogender/all_sentences.tsv")
    assert set(gender["condition"]) <= {"male", "female", "neutral"}
    assert all(unit.count(".") == 2 for unit in gender["unit"])    # occupation.participant.answer
    xstest = _items(tmp_path / "x", "xstest", "xstest/xstest_prompts.csv")
    assert set(xstest["condition"]) == {"safe", "unsafe"}
