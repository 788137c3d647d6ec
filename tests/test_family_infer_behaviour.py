"""The behavioural tree (Chow-Liu tree of error consistency) on hand-made kappa matrices."""
from __future__ import annotations

import math

import numpy as np

from auditkit.analyze.behaviour_tree import behaviour_tree

MODELS = ["base", "a", "b", "c"]
#                base   a     b     c
K = np.array([[1.0, 0.60, 0.50, 0.20],
              [0.60, 1.0, 0.30, 0.70],
              [0.50, 0.30, 1.0, 0.10],
              [0.20, 0.70, 0.10, 1.0]])


def test_the_tree_follows_the_strongest_kappa_and_hangs_from_the_declared_root() -> None:
    declared = {"base": None, "a": "base", "b": "base", "c": "a"}
    tree = behaviour_tree(MODELS, K, declared)
    assert tree.parents == {"base": None, "a": "base", "b": "base", "c": "a"}
    assert tree.kappa == {"a": 0.60, "b": 0.50, "c": 0.70}
    assert tree.agreement == 1.0


def test_a_declared_edge_the_failures_do_not_support_lowers_the_agreement() -> None:
    declared = {"base": None, "a": "base", "b": "base", "c": "b"}   # c really behaves like a
    tree = behaviour_tree(MODELS, K, declared)
    assert tree.parents["c"] == "a"
    assert math.isclose(tree.agreement, 2 / 3)


def test_undefined_kappa_counts_as_chance() -> None:
    K2 = K.copy()
    K2[0, 3] = K2[3, 0] = np.nan          # base-c and a-c undefined (kappa 0): c's best
    K2[1, 3] = K2[3, 1] = np.nan          # link left is b, at kappa 0.10
    tree = behaviour_tree(MODELS, K2, {"base": None})
    assert tree.parents == {"base": None, "a": "base", "b": "base", "c": "b"}
    assert tree.kappa["c"] == 0.10
    assert math.isnan(tree.agreement)     # no declared edge


def test_the_report_partial_escapes_names_and_flags_differing_parents() -> None:
    from auditkit.report.html import environment
    from auditkit.report.lineage_trees import LineageTrees, TreeLine

    evil = TreeLine("<script>x</script>", "κ 0.50", True, ())
    view = LineageTrees(declared=(TreeLine("base", "", False, ()),),
                        weights=(TreeLine("base", "", False, (evil,)),),
                        behaviour=(TreeLine("base", "", False, ()),),
                        warnings=("a <b> declares base, but ...",), agreement="50%",
                        weights_used=False)
    html = environment().get_template("lineage_trees.html.j2").render(lineage_trees=view)
    assert "<script>" not in html and "&lt;script&gt;x&lt;/script&gt;" in html
    assert 'class="name differs"' in html and "a &lt;b&gt; declares base" in html
    assert "holds 50% of the declared edges" in html


def test_rows_are_read_exactly_in_every_float_dtype(tmp_path) -> None:
    import torch
    from safetensors.torch import save_file

    from auditkit.family.infer_weights import read_rows, table

    torch.manual_seed(0)
    ref = torch.randn(7, 5)
    tensors = {f"w.{d}": ref.to(getattr(torch, d))
               for d in ("float32", "float16", "bfloat16", "float64")}
    save_file(tensors, str(tmp_path / "m.safetensors"))
    refs = table(tmp_path / "m.safetensors")
    for name, t in tensors.items():
        assert np.array_equal(read_rows(refs[name]), t.double().numpy()), name
        assert np.array_equal(read_rows(refs[name], 2, 5), t.double().numpy()[2:5]), name
