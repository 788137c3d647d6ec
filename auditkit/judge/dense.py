"""Dense text vectors from a static token-embedding table (:mod:`auditkit.backend.distill`).

A folder holds ``embeddings.npz`` (``vectors`` (V, d) float16: one row per token id of the
distilled model's vocabulary) and that model's ``tokenizer.json``; a text's vector is the mean
of its tokens' rows, L2-normalised (model2vec, Tulkens & van Dongen 2024). Runs with the
``tokenizers`` package and numpy only (no torch), one text at a time, so a vector never depends
on the other texts of a batch.
"""
from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tokenizers import Tokenizer

from auditkit.errors import AuditError

TABLE = "embeddings.npz"          # ``vectors`` (V, d) float16, ``layer``, ``sif_a``
TOKENIZER = "tokenizer.json"


@dataclass(frozen=True)
class StaticEmbedding:
    tokenizer: Tokenizer
    vectors: np.ndarray              # (V, d) float32

    @property
    def dims(self) -> int:
        return int(self.vectors.shape[1])

    def embed(self, text: str) -> np.ndarray:
        """(d,) float64: the L2-normalised mean of ``text``'s token rows; zeros when empty."""
        ids = self.tokenizer.encode(text, add_special_tokens=False).ids
        if not ids:
            return np.zeros(self.dims)
        mean = self.vectors[ids].astype(np.float64).mean(axis=0)
        norm = float(np.linalg.norm(mean))
        out: np.ndarray = mean / norm if norm > 0 else mean
        return out

    def embed_all(self, texts: Sequence[str]) -> np.ndarray:
        """(N, d) float64: :meth:`embed` of each text."""
        return np.array([self.embed(t) for t in texts]).reshape(len(texts), self.dims)


@functools.lru_cache(maxsize=4)
def load_static(folder: Path) -> StaticEmbedding:
    """The table and tokenizer in ``folder`` (written by ``auditkit judge distill``)."""
    try:
        with np.load(folder / TABLE, allow_pickle=False) as npz:
            vectors = npz["vectors"].astype(np.float32)
        tokenizer = Tokenizer.from_file(str(folder / TOKENIZER))
    except Exception as err:      # tokenizers raises a plain Exception for a bad file
        raise AuditError(folder, f"cannot read the static embeddings ({type(err).__name__}: "
                         f"{err}); expected {TABLE} and {TOKENIZER} written by 'auditkit judge "
                         "distill'") from err
    if vectors.ndim != 2 or tokenizer.get_vocab_size() > len(vectors):
        raise AuditError(folder / TABLE, f"vectors of shape {vectors.shape} do not cover the "
                         f"tokenizer's {tokenizer.get_vocab_size()} tokens", field="vectors")
    return StaticEmbedding(tokenizer, vectors)
