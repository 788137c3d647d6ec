"""`auditkit prompts export`: the exact prompts per member and item; run elsewhere, their
outputs come back as an external member whose outcomes equal the model's own."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from gate_helpers import write_probes
from typer.testing import CliRunner

from auditkit.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def tiny_family(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import tiny

    root = tmp_path_factory.mktemp("fam")
    tiny.make_full_model(root / "base", seed=0)
    tiny.make_full_model(root / "plain", seed=1, name_or_path="base")
    shutil.copy(root / "base" / "tokenizer.json", root / "plain" / "tokenizer.json")
    cfg = json.loads((root / "base" / "tokenizer_config.json").read_text())
    cfg.pop("chat_template", None)
    (root / "plain" / "tokenizer_config.json").write_text(json.dumps(cfg))
    (root / "plain" / "chat_template.jinja").unlink(missing_ok=True)
    return root


def _export(family: Path, probes: Path, out: Path, *args: str) -> list[dict]:
    result = runner.invoke(app, ["prompts", "export", "--family", str(family), "--probes",
                                 str(probes), "--out", str(out), *args])
    assert result.exit_code == 0, result.output
    assert f"to {out}" in " ".join(result.output.split())
    return [json.loads(line) for line in out.read_text().splitlines()]


def test_rows_per_member_and_item_with_the_exact_text(tiny_family: Path, tmp_path: Path) -> None:
    from auditkit.backend.load import load_tokenizer
    from auditkit.backend.tokens import prompt_ids
    from auditkit.family import load_family
    from auditkit.types import GenerationRequest

    probes = write_probes(tmp_path / "probes")
    rows = _export(tiny_family, probes, tmp_path / "prompts.jsonl")
    assert len(rows) == 2 * (12 + 6 + 6)
    family = load_family(tiny_family)
    for member, templated in (("base", True), ("plain", False)):
        tokenizer = load_tokenizer(family, member)
        gens = [r for r in rows if r["member"] == member and r["answer"] == "reply"]
        assert len(gens) == 18
        for row in gens:
            (req,) = row["requests"]
            assert req["chat_template"] is templated
            request = GenerationRequest(req["prompt"], req["max_new_tokens"], req["system"])
            ids = tokenizer(req["text"], add_special_tokens=req["add_special_tokens"])["input_ids"]
            assert list(ids) == prompt_ids(tokenizer, request)      # what the hf backend encodes
        assert "<|im_start|>user" in gens[0]["requests"][0]["text"] if templated else True
    pair = next(r for r in rows if r["probe"] == "bias.test.pairs")
    assert pair["answer"] == "loglikelihoods" and [q["context"] for q in pair["requests"]] == ["", ""]


def test_raw_and_unknown_member(tiny_family: Path, tmp_path: Path) -> None:
    probes = write_probes(tmp_path / "probes")
    rows = _export(tiny_family, probes, tmp_path / "p.jsonl", "--raw", "-m", "base",
                   "-p", "safety.harmful")
    assert len(rows) == 12 and all(r["member"] == "base" for r in rows)
    req = rows[0]["requests"][0]
    assert req["chat_template"] is None and req["text"] == req["prompt"]
    result = runner.invoke(app, ["prompts", "export", "--family", str(tiny_family),
                                 "--probes", str(probes), "--out", str(tmp_path / "x.jsonl"),
                                 "-m", "nope"])
    assert result.exit_code == 2 and "unknown models ['nope']" in result.output


@pytest.mark.slow
def test_outputs_run_elsewhere_match_the_loaded_model(tiny_family: Path, tmp_path: Path) -> None:
    """Export base's prompts, answer them with base loaded directly (as a server would), bring
    the answers back as external member `served`: its outcomes equal base's."""
    import torch

    from auditkit.audit import AuditOptions, run_audit
    from auditkit.backend.hf import HFBackend
    from auditkit.backend.load import load_model
    from auditkit.family import load_family
    from auditkit.types import GenerationRequest, LoglikelihoodRequest

    probes = write_probes(tmp_path / "probes")
    rows = _export(tiny_family, probes, tmp_path / "p.jsonl", "-m", "base")
    loaded = load_model(load_family(tiny_family), "base")
    server = HFBackend(loaded.model, loaded.tokenizer, device="cpu", dtype=torch.float32)
    family = tmp_path / "fam"
    shutil.copytree(tiny_family / "base", family / "base")
    with (family / "served.jsonl").open("w") as fh:
        for row in rows:
            reqs = row["requests"]
            if row["answer"] == "reply":
                (q,) = reqs
                answer = server.generate([GenerationRequest(q["prompt"], q["max_new_tokens"],
                                                            q["system"])])[0]
            else:
                answer = [ll for ll, _ in server.loglikelihood(
                    [LoglikelihoodRequest(q["context"], q["continuation"]) for q in reqs])]
            fh.write(json.dumps({"probe": row["probe"], "item": row["item"],
                                 row["answer"]: answer}) + "\n")
    (family / "family.yaml").write_text("models:\n  served: {external: served.jsonl, "
                                        "parent: base}\n")
    run = run_audit(AuditOptions(family_dir=family, probes_dir=probes, out_dir=tmp_path / "run"))
    table = run.results.pivot_table(index=["probe", "item"], columns="model",
                                     values=["failed", "score"], aggfunc="first")
    assert (table[("failed", "base")] == table[("failed", "served")]).all()
    pairs = run.results[run.results["probe"] == "bias.test.pairs"].pivot(
        index="item", columns="model", values="score")
    assert (pairs["base"] - pairs["served"]).abs().max() < 1e-4
    out = run.results[run.results["probe"] == "safety.harmful"].pivot(
        index="item", columns="model", values="output")
    assert (out["base"] == out["served"]).all()
