"""Static token embeddings distilled from a causal language model, model2vec-style.

Tulkens & van Dongen (2024), *model2vec: distill a small, fast static model from a sentence
transformer*: pass every vocabulary token through the model, keep one layer's output for it,
reduce the table with PCA and weight each token by Zipf / SIF; a text's vector is then the mean
of its tokens' rows, with no model at run time. For a decoder the token is fed after a fixed
first token (``<|endoftext|>``, id ``prefix_id``): position 0 of a Llama-style model carries
the "attention sink" activations whatever the token is, position 1 is the token in a neutral
context. Used by the judge's dense candidates (docs/judge.md, ``auditkit judge distill``;
not the default judge); the table is written with the tokenizer, so a judge reads it with the
``tokenizers`` package and numpy only (:mod:`auditkit.judge.dense`, which owns the format).
"""
from __future__ import annotations

import contextlib
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from auditkit.backend.load import load_full
from auditkit.backend.threads import cpu_threads
from auditkit.judge.dense import TABLE, TOKENIZER


class _Done(Exception):
    """Raised by the last hook: the layers above the deepest one asked for are not run."""


@torch.inference_mode()
def token_states(model_dir: Path, layers: Sequence[int], prefix_id: int = 0,
                 batch: int = 1024) -> dict[int, np.ndarray]:
    """Per layer (0 = input embeddings, k = the residual stream after k blocks, L = after the
    final norm, as ``output_hidden_states``): the (V, H) float32 hidden state of every
    vocabulary token at position 1, after ``prefix_id`` at position 0."""
    torch.set_num_threads(cpu_threads())
    model = load_full(model_dir, dtype=torch.float32).eval()
    vocab, blocks = int(model.config.vocab_size), model.model.layers
    modules = {k: model.model.embed_tokens if k == 0 else model.model.norm
               if k == len(blocks) else blocks[k - 1] for k in layers}
    out = {k: np.zeros((vocab, model.config.hidden_size), np.float32) for k in layers}
    rows = slice(0, 0)

    def keep(layer: int) -> Callable[[Any, Any, Any], None]:
        def hook(module: Any, args: Any, output: Any) -> None:
            state = output[0] if isinstance(output, tuple) else output      # (B, 2, H)
            out[layer][rows] = state[:, 1].float().numpy()
            if layer == max(layers):
                raise _Done
        return hook

    handles = [modules[k].register_forward_hook(keep(k)) for k in layers]
    try:
        for start in range(0, vocab, batch):
            ids = torch.arange(start, min(start + batch, vocab))
            rows = slice(start, start + len(ids))
            with contextlib.suppress(_Done):
                model.model(input_ids=torch.stack([torch.full_like(ids, prefix_id), ids], 1))
    finally:
        for handle in handles:
            handle.remove()
    return out


def reduce(states: np.ndarray, dims: int, sif_a: float = 1e-3) -> np.ndarray:
    """(V, dims) table: PCA of the (V, H) ``states`` (centred, top ``dims`` components, signs
    fixed so each component's largest loading is positive), each row times the SIF weight
    a / (a + p(w)) of Arora et al. (2017) with Zipf's p(w) = 1 / (rank H_V), the token id
    taken as its frequency rank (BPE ids follow merge order, roughly frequency), as model2vec."""
    centred = states - states.mean(axis=0)
    _, _, vt = np.linalg.svd(centred.astype(np.float64), full_matrices=False)
    basis = vt[:dims]                                                   # (dims, H)
    basis *= np.sign(basis[np.arange(dims), np.abs(basis).argmax(axis=1)])[:, None]
    rank = np.arange(1, len(states) + 1, dtype=np.float64)
    p = 1.0 / (rank * np.sum(1.0 / rank))
    table: np.ndarray = (centred @ basis.T) * (sif_a / (sif_a + p))[:, None]
    return table


def write_table(out_dir: Path, table: np.ndarray, model_dir: Path, layer: int,
                sif_a: float) -> Path:
    """Write ``embeddings.npz`` (float16 vectors) and a copy of the model's tokenizer.json."""
    out_dir.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out_dir / TABLE, allow_pickle=False,
                        vectors=table.astype(np.float16), layer=np.int64(layer),
                        sif_a=np.float64(sif_a))
    shutil.copyfile(model_dir / TOKENIZER, out_dir / TOKENIZER)
    return out_dir


def distill(model_dir: Path, out_dir: Path, layer: int, dims: int,
            sif_a: float = 1e-3) -> Path:
    """The whole step: token states of one layer, PCA + SIF, written to ``out_dir``."""
    states = token_states(model_dir, [layer])[layer]
    return write_table(out_dir, reduce(states, dims, sif_a), model_dir, layer, sif_a)
