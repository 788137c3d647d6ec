"""Static token embeddings for the judge: the distilled table's PCA + SIF reduction
(auditkit.backend.distill.reduce), a text's vector (auditkit.judge.dense) and a candidate with
dense blocks (auditkit.judge.train), on a hand-made tokenizer and table."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from tiny import make_full_model
from tokenizers import Tokenizer, models, pre_tokenizers
from transformers import AutoModelForCausalLM

from auditkit.backend.distill import distill, reduce, token_states
from auditkit.errors import AuditError
from auditkit.judge.data import LabelledReply
from auditkit.judge.dense import TABLE, TOKENIZER, load_static
from auditkit.judge.train import BlockSpec, Candidate, fit

WORDS = ["[UNK]", "i", "can't", "help", "sure", "here", "is", "how"]


def write_table(folder: Path, vectors: np.ndarray) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    tok = Tokenizer(models.WordLevel({w: i for i, w in enumerate(WORDS)}, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tok.save(str(folder / TOKENIZER))
    np.savez(folder / TABLE, vectors=vectors.astype(np.float16))
    return folder


@pytest.fixture()
def table(tmp_path: Path) -> Path:
    vectors = np.zeros((len(WORDS), 3))
    vectors[1:4, 0] = [1.0, 2.0, 1.0]          # the refusal words on axis 0
    vectors[4:8, 1] = 1.0                      # the compliance words on axis 1
    vectors[0, 2] = 4.0                        # unknown words on axis 2
    return write_table(tmp_path / "table", vectors)


def test_text_vector_is_the_normalised_mean_of_its_tokens(table: Path) -> None:
    emb = load_static(table)
    # "i can't help" -> rows (1,0,0), (2,0,0), (1,0,0): mean (4/3, 0, 0), normalised (1, 0, 0)
    assert emb.embed("i can't help") == pytest.approx([1.0, 0.0, 0.0])
    # "sure zzz": rows (0,1,0) and the unknown (0,0,4): mean (0, .5, 2) / sqrt(4.25)
    assert emb.embed("sure zzz") == pytest.approx(np.array([0.0, 0.5, 2.0]) / 4.25 ** 0.5)
    assert emb.embed("") == pytest.approx([0.0, 0.0, 0.0])
    texts = ["i can't help", "sure here is how", "", "how"]
    batch = emb.embed_all(texts)
    assert batch.shape == (4, 3)
    assert all((batch[i] == emb.embed(t)).all() for i, t in enumerate(texts))


def test_missing_or_short_table_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(AuditError, match="static embeddings"):
        load_static(tmp_path)
    short = write_table(tmp_path / "short", np.zeros((3, 2)))
    with pytest.raises(AuditError, match="do not cover"):
        load_static(short)


def test_reduce_is_pca_then_sif_weights() -> None:
    rng = np.random.default_rng(0)
    # rank-2 states in 5 dims: two components carry everything
    states = rng.normal(size=(50, 2)) @ rng.normal(size=(2, 5)) + 3.0
    table = reduce(states, 2, sif_a=1e-3)
    assert table.shape == (50, 2)
    rank = np.arange(1, 51)
    p = 1.0 / (rank * np.sum(1.0 / rank))
    unweighted = table / (1e-3 / (1e-3 + p))[:, None]
    # the components keep every distance of the centred states (rank 2 = 2 components)
    centred = states - states.mean(axis=0)
    assert np.linalg.norm(unweighted, axis=1) == pytest.approx(np.linalg.norm(centred, axis=1))
    assert abs(unweighted[:, 0] @ unweighted[:, 1]) < 1e-8          # uncorrelated components
    assert unweighted[:, 0].var() >= unweighted[:, 1].var()
    # the first, most frequent token gets the smallest SIF weight
    assert np.all(np.diff(1e-3 / (1e-3 + p)) > 0)


def test_dense_candidate_learns_and_ignores_batch_size(table: Path) -> None:
    rows = [LabelledReply("ab"[i % 2], "train", f"g{i}", "q?", reply, label, None, "")
            for i, (reply, label) in enumerate(
                [("i can't help", "full_refusal"), ("sure here is how", "full_compliance")] * 10
                + [("i can't help here", "partial_refusal")] * 4)]
    cand = Candidate("dense", (BlockSpec("body", "dense", 0, 0, scale=4.0),), cues=False,
                     embeddings=str(table))
    fitted = fit(rows, cand, ("three_way",))
    replies = ["I can't help", "Sure, here is how", "how", "i can't"]
    proba = fitted.predict_proba("three_way", ["q?"] * 4, replies)
    classes = list(fitted.heads["three_way"].classes_)
    assert [classes[k] for k in proba.argmax(axis=1)][:2] == ["full_refusal", "full_compliance"]
    one = np.vstack([fitted.predict_proba("three_way", ["q?"], [r]) for r in replies])
    assert np.array_equal(one, proba)


def test_dense_block_without_a_table_is_refused() -> None:
    rows = [LabelledReply("a", "train", "g", "q", "r", "full_refusal", None, "")]
    with pytest.raises(ValueError, match="embeddings folder"):
        fit(rows, Candidate("d", (BlockSpec("body", "dense", 0, 0),)), ("three_way",))


def test_token_states_are_the_hidden_states_at_position_one(tmp_path: Path) -> None:
    path = make_full_model(tmp_path / "tiny")
    states = token_states(path, [0, 1, 2], batch=100)       # 2 blocks: 2 = after the norm
    model = AutoModelForCausalLM.from_pretrained(path).eval()
    ids = torch.arange(model.config.vocab_size)
    with torch.no_grad():
        hidden = model(torch.stack([torch.zeros_like(ids), ids], 1),
                       output_hidden_states=True).hidden_states
    for layer in (0, 1, 2):
        assert np.allclose(states[layer], hidden[layer][:, 1].numpy(), atol=1e-5)
    # a deepest layer of 1 stops early and gives the same rows
    assert np.array_equal(token_states(path, [1], batch=64)[1], states[1])
    out = distill(path, tmp_path / "table", layer=1, dims=4)
    emb = load_static(out)
    assert emb.vectors.shape == (model.config.vocab_size, 4)
    assert emb.embed("Sure, here is").shape == (4,)


def test_cli_distill_writes_the_table_and_names_a_missing_model(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from auditkit.cli import app

    path = make_full_model(tmp_path / "tiny")
    out = tmp_path / "emb"
    result = CliRunner().invoke(app, ["judge", "distill", "--model", str(path), "--out",
                                      str(out), "--layer", "2", "--dims", "8"])
    assert result.exit_code == 0, result.output
    assert load_static(out).vectors.shape[1] == 8
    with np.load(out / TABLE) as npz:
        assert int(npz["layer"]) == 2 and npz["vectors"].dtype == np.float16
    missing = CliRunner().invoke(app, ["judge", "distill", "--model", str(tmp_path / "none"),
                                       "--out", str(out)])
    assert missing.exit_code == 2 and "none" in missing.output
