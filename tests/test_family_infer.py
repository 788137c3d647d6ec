"""Lineage from weights on tiny models really fine-tuned (tests/infer_helpers.py).

The family: m0 (pre-trained base) -> m2 -> m1 -> m3 full fine-tunes in sequence (names out of
order on purpose), LoRA adapters la on m0, lb on m2, lc on m1; no metadata names a parent.
"""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from auditkit.cli import app
from auditkit.errors import AuditError
from auditkit.family import load_family
from auditkit.family.infer import disagreements, infer_family, infer_members
from auditkit.family.infer_weights import lora_delta, read_full, read_lora, read_rows
from tests.infer_helpers import TEXTS, fine_tune, lora_tune, make_base

TRUTH = {"m0": None, "m2": "m0", "m1": "m2", "m3": "m1", "la": "m0", "lb": "m2", "lc": "m1"}


@pytest.fixture(scope="module")
def fam(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("infer") / "fam"
    make_base(root / "m0")
    fine_tune(root / "m0", root / "m2", TEXTS["a"], seed=1)
    fine_tune(root / "m2", root / "m1", TEXTS["b"], seed=2)
    fine_tune(root / "m1", root / "m3", TEXTS["c"], seed=3)
    lora_tune(root / "m0", root / "la", TEXTS["d"], seed=4)
    lora_tune(root / "m2", root / "lb", TEXTS["e"], seed=5)
    lora_tune(root / "m1", root / "lc", TEXTS["f"], seed=6)
    return root


def _members(root: Path, names: list[str]) -> list[tuple[str, Path, str]]:
    return [(n, root / n, "lora" if n.startswith("l") else "full") for n in names]


def test_chain_and_adapters_are_recovered_from_a_declared_root(fam: Path) -> None:
    inference = infer_members(_members(fam, list(TRUTH)), root="m0")  # type: ignore[arg-type]
    assert inference.parents == TRUTH
    (tree,) = inference.trees
    assert tree.roots == ("m0",)
    for edge in tree.edges:
        assert 0.5 < edge.confidence <= 1.0, edge
        # fine-tunes here move 1-10% of each matrix; unrelated models are ~140% apart
        assert 0.005 < edge.distance < 0.2, edge
    assert {e.child: e.evidence for e in tree.edges}["lb"] == "adapter delta"


def test_full_chain_distances_grow_along_the_chain(fam: Path) -> None:
    from auditkit.family.infer_stats import full_stats

    stats = full_stats([read_full(n, fam / n) for n in ("m0", "m2", "m1", "m3")])
    d = stats.distance.mean(0)      # (4, 4) in chain order
    assert d[0, 1] < d[0, 2] < d[0, 3]
    assert d[3, 2] < d[3, 1] < d[3, 0]
    assert np.allclose(d, d.T) and np.all(np.diag(d) == 0)


def test_lora_delta_is_what_peft_merges(fam: Path) -> None:
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    merged = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(fam / "m2"),
                                       fam / "lb").merge_and_unload().state_dict()
    lora, base = read_lora("lb", fam / "lb"), read_full("m2", fam / "m2")
    assert len(lora.modules) == 6 * 4          # 6 layers x q, k, v, o
    for name in lora.modules:
        want = merged[name].double().numpy() - read_rows(base.tensors[name])
        assert np.allclose(lora_delta(lora, name), want, atol=1e-6), name
    assert {m.scale for m in lora.modules.values()} == {2.0}     # lora_alpha 8 / r 4


def test_a_mislabelled_parent_is_flagged(fam: Path, tmp_path: Path) -> None:
    root = tmp_path / "fam"
    shutil.copytree(fam, root)
    (root / "family.yaml").write_text(
        "name: tiny\nmodels:\n  m0: {parent: null}\n  m2: {parent: m0}\n  m1: {parent: m2}\n"
        "  m3: {parent: m0}\n  la: {parent: m0}\n  lb: {parent: m2}\n  lc: {parent: m1}\n")
    family = load_family(root)
    warnings = disagreements(family, infer_family(family, root="m0"))
    assert len(warnings) == 1, warnings
    match = re.fullmatch(r"m3 declares m0 \(manifest\), but its weights are closest to m1 "
                         r"\(confidence (\d\.\d\d)\)", warnings[0])
    assert match and float(match[1]) > 0.5, warnings
    shown = CliRunner().invoke(app, ["family", "show", str(root), "--check-lineage"])
    assert shown.exit_code == 0, shown.output
    flat = " ".join(shown.stdout.split())
    # the check roots each tree by kurtosis alone (no --root): m3's parent is still m1
    assert "warning: m3 declares m0 (manifest), but its weights are closest to m1" in flat
    as_json = CliRunner().invoke(app, ["family", "show", str(root), "--check-lineage", "--json"])
    check = json.loads(as_json.stdout)["lineage_check"]
    assert check["parents"]["m3"] == "m1"
    assert any(w.startswith("m3 declares m0 (manifest)") for w in check["warnings"])


def test_an_edge_declared_the_other_way_round_is_one_warning(fam: Path, tmp_path: Path) -> None:
    root = tmp_path / "fam"
    shutil.copytree(fam, root)
    (root / "family.yaml").write_text(     # m0 and m2 swapped: m2 declared the root
        "name: tiny\nmodels:\n  m2: {parent: null}\n  m0: {parent: m2}\n  m1: {parent: m2}\n"
        "  m3: {parent: m1}\n  la: {parent: m0}\n  lb: {parent: m2}\n  lc: {parent: m1}\n")
    family = load_family(root)
    (warning,) = disagreements(family, infer_family(family, root="m0"))
    assert warning.startswith("m0 declares m2 as its parent; their weights are adjacent, but "
                              "the inferred direction puts m0 above m2 (confidence ")


def test_different_architectures_form_separate_trees(fam: Path, tmp_path: Path) -> None:
    make_base(tmp_path / "wide", hidden_size=48, steps=5)
    members = _members(fam, ["m0", "m2", "la"]) + [("wide", tmp_path / "wide", "full")]
    inference = infer_members(members, root="m0")  # type: ignore[arg-type]
    assert sorted(sorted(t.members) for t in inference.trees) == [["la", "m0", "m2"], ["wide"]]
    assert inference.parents == {"m0": None, "m2": "m0", "la": "m0", "wide": None}


def test_a_different_tokenizer_forms_its_own_tree(fam: Path, tmp_path: Path) -> None:
    retok = tmp_path / "retok"
    shutil.copytree(fam / "m2", retok)
    tok = json.loads((retok / "tokenizer.json").read_text())
    vocab = tok["model"]["vocab"]
    a, b = sorted(vocab)[40:42]                 # same shapes, two token ids swapped
    vocab[a], vocab[b] = vocab[b], vocab[a]
    (retok / "tokenizer.json").write_text(json.dumps(tok))
    notok = tmp_path / "notok"                  # no tokenizer.json: vocabulary unknown
    shutil.copytree(fam / "m1", notok, ignore=shutil.ignore_patterns("tokenizer*"))
    members = _members(fam, ["m0", "m2", "la"]) + [("retok", retok, "full"),
                                                   ("notok", notok, "full")]
    inference = infer_members(members, root="m0")  # type: ignore[arg-type]
    assert sorted(sorted(t.members) for t in inference.trees) == \
        [["la", "m0", "m2", "notok"], ["retok"]]
    assert inference.parents["notok"] == "m2" and inference.parents["la"] == "m0"


def test_cli_json_and_tree(fam: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["family", "infer", str(fam), "--json", "--root", "m0",
                                 "--bootstrap", "20"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["parents"] == TRUTH
    # no metadata: every declared parent is "none", so each inferred edge is a disagreement
    assert "m3 declares no parent, but its weights are closest to m1" in " ".join(data["warnings"])
    shown = runner.invoke(app, ["family", "infer", str(fam), "--root", "m0", "--bootstrap", "20"])
    assert shown.exit_code == 0, shown.output
    assert "lc  distance" in shown.stdout and "confidence" in shown.stdout


def test_bad_files_are_named(fam: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(fam / "m2", broken)
    data = (broken / "model.safetensors").read_bytes()
    (broken / "model.safetensors").write_bytes(data[: len(data) // 2])
    with pytest.raises(AuditError, match=re.escape(str(broken / "model.safetensors")) +
                       ".*truncated"):
        infer_members([("m0", fam / "m0", "full"), ("broken", broken, "full")])
    dora = tmp_path / "dora"
    shutil.copytree(fam / "la", dora)
    config = json.loads((dora / "adapter_config.json").read_text())
    (dora / "adapter_config.json").write_text(json.dumps({**config, "use_dora": True}))
    with pytest.raises(AuditError) as err:
        infer_members([("m0", fam / "m0", "full"), ("dora", dora, "lora")])
    assert str(dora / "adapter_config.json") in str(err.value) and "use_dora" in str(err.value)
    # the check that `family show` makes skips what it cannot read, saying why
    inference = infer_members([("m0", fam / "m0", "full"), ("dora", dora, "lora")],
                              strict=False)
    assert [m for m, _ in inference.skipped] == ["dora"]


def test_an_unknown_root_is_an_error(fam: Path) -> None:
    with pytest.raises(AuditError, match="--root names no member"):
        infer_members(_members(fam, ["m0", "m2"]), root="nope")  # type: ignore[arg-type]


def test_run_records_the_check_and_can_take_the_inferred_tree(fam: Path, tmp_path: Path) -> None:
    from gate_helpers import write_probes

    probes = write_probes(tmp_path / "probes")
    result = CliRunner().invoke(app, ["run", "--family", str(fam), "--probes", str(probes),
                                      "--out", str(tmp_path / "run"), "--backend", "fake",
                                      "--infer-lineage"])
    assert result.exit_code == 0, result.output
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    check = manifest["lineage_check"]
    assert check["used"] is True
    inferred = {e["child"]: e["parent"] for e in check["edges"]}
    assert set(inferred) | set(check["roots"]) == set(TRUTH)
    # no member declares a parent, so the run's tree is the inferred one
    assert {m["name"]: m["family_parent"] for m in manifest["models"]} == \
        {n: inferred.get(n) for n in TRUTH}
    assert "warning (lineage from weights): m3 declares no parent" in " ".join(
        result.stdout.split())
    html = (tmp_path / "run" / "report.html").read_text()
    assert "From the weights" in html and "From the failures" in html
    assert "Declared (inferred parents taken)" in html


def test_the_cached_check_equals_the_computed_one(fam: Path, tmp_path: Path) -> None:
    from auditkit.family.infer import check_lineage

    family = load_family(fam)
    computed = check_lineage(family)
    assert check_lineage(family, cache=tmp_path) == computed        # computed, then stored
    assert len(list(tmp_path.glob("*.json"))) == 1
    assert check_lineage(family, cache=tmp_path) == computed        # read back
