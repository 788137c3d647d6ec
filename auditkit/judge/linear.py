"""A linear text model stored without pickle: TF-IDF blocks + cues, softmax / logistic heads.

Files (written by :func:`auditkit.judge.train.export`):
- ``model.json``: format version, the blocks (field, analyzer, n-gram range, sublinear tf,
  vocabulary term -> column), the cue names, the heads' class names, training metadata.
- ``weights.npz`` (read with ``allow_pickle=False``): ``idf_<b>`` (V_b,) per block and, per
  head h, ``<h>_coef`` (K, D) and ``<h>_intercept`` (K,), D = sum V_b + number of cues.

Inference reproduces scikit-learn exactly: per block, counts of the analyzer's n-grams that are
in the vocabulary, tf (1 + log tf when sublinear) times idf, L2-normalised (when the block says
so); cues appended as
they are; z = x W^T + b; probabilities softmax(z) (K > 1) or sigmoid(z) for a binary head.
"""
from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse

from auditkit.errors import AuditError
from auditkit.judge import features

FORMAT = 1


@dataclass(frozen=True)
class Block:
    field: str
    analyzer: str
    lo: int
    hi: int
    sublinear: bool
    token_pattern: str               # word analyzer's token regex
    norm: bool                       # L2-normalised (else tf-idf as is)
    vocabulary: dict[str, int]
    idf: np.ndarray                  # (V,)

    def vector(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """(ids, values) of the L2-normalised TF-IDF vector of ``text`` (sparse)."""
        counts = Counter(features.ANALYZERS[self.analyzer](text, self.lo, self.hi,
                                                           self.token_pattern))
        get = self.vocabulary.get
        hits = [(i, c) for i, c in ((get(g), c) for g, c in counts.items()) if i is not None]
        if not hits:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        ids = np.fromiter((i for i, _ in hits), dtype=np.int64, count=len(hits))
        tf = np.fromiter((c for _, c in hits), dtype=np.float64, count=len(hits))
        values = ((1.0 + np.log(tf)) if self.sublinear else tf) * self.idf[ids]
        return ids, (values / np.linalg.norm(values)) if self.norm else values


@dataclass(frozen=True)
class Head:
    classes: tuple[str, ...]
    coef: np.ndarray                 # (K, D); K = 1 for a binary head
    intercept: np.ndarray            # (K,)

    def probabilities(self, z: np.ndarray) -> np.ndarray:
        """(N, len(classes)) class probabilities from the (N, K) decision values."""
        if self.coef.shape[0] == 1:
            p = 1.0 / (1.0 + np.exp(-z[:, 0]))
            return np.stack([1.0 - p, p], axis=1)
        z = z - z.max(axis=1, keepdims=True)
        e = np.exp(z)
        softmax: np.ndarray = e / e.sum(axis=1, keepdims=True)
        return softmax


@dataclass(frozen=True)
class LinearTextModel:
    blocks: tuple[Block, ...]
    cue_names: tuple[str, ...]
    heads: dict[str, Head]
    meta: dict[str, Any]
    gated: bool                      # blocks count only when the "evidence" cue is 1
    cue_scale: float                 # the cues are multiplied by this before the weights
    digest: str                      # sha256 of model.json's text and the arrays' bytes

    @property
    def cue_index(self) -> list[int]:
        """Positions of the model's cues in :data:`features.CUE_NAMES`."""
        return [features.CUE_NAMES.index(n) for n in self.cue_names]

    def matrix(self, requests: Sequence[str], replies: Sequence[str]) -> sparse.csr_matrix:
        """(N, D) features of every (request, reply), computed once for all heads."""
        offsets = np.cumsum([0] + [len(b.idf) for b in self.blocks])
        cue_index = self.cue_index
        cue_ids = offsets[-1] + np.arange(len(cue_index))
        rows_ids, rows_values = [], []
        for request, reply in zip(requests, replies):
            cues = features.cues(request, reply)
            ids, values = [cue_ids], [cues[cue_index] * self.cue_scale]
            if cues[-1] or not self.gated:
                texts = features.fields(request, reply)
                for block, start in zip(self.blocks, offsets):
                    i, v = block.vector(texts[block.field])
                    ids.append(i + start)
                    values.append(v)
            rows_ids.append(np.concatenate(ids))
            rows_values.append(np.concatenate(values))
        indptr = np.cumsum([0] + [len(i) for i in rows_ids])
        data = np.concatenate(rows_values) if rows_values else np.zeros(0)
        index = np.concatenate(rows_ids) if rows_ids else np.zeros(0, dtype=np.int64)
        return sparse.csr_matrix((data, index, indptr),
                                 shape=(len(replies), int(offsets[-1]) + len(cue_index)))

    def decision(self, head: str, X: sparse.csr_matrix) -> np.ndarray:
        """(N, K) decision values X W^T + b of one head."""
        h = self.heads[head]
        z: np.ndarray = np.asarray(X @ h.coef.T) + h.intercept
        return z

    def predict_proba(self, head: str, requests: Sequence[str],
                      replies: Sequence[str]) -> np.ndarray:
        """(N, len(classes)) probabilities of one head."""
        return self.heads[head].probabilities(self.decision(head, self.matrix(requests, replies)))


def load_linear(folder: str | Path) -> LinearTextModel:
    """Read ``model.json`` and ``weights.npz`` from ``folder`` (no pickle)."""
    folder = Path(folder)
    try:
        text = (folder / "model.json").read_text(encoding="utf-8")
        with np.load(folder / "weights.npz", allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
        return _build(json.loads(text), arrays, text)
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise AuditError(folder, f"cannot read the judge model ({type(err).__name__}: {err}); "
                         "expected model.json and weights.npz written by 'auditkit judge "
                         "train'") from err


def _build(spec: dict[str, Any], arrays: dict[str, np.ndarray], text: str) -> LinearTextModel:
    if spec.get("format") != FORMAT or not set(spec["cues"]) <= set(features.CUE_NAMES):
        raise ValueError(f"format {spec.get('format')!r} or cue names do not match this "
                         f"auditkit (format {FORMAT})")
    trained = spec.get("features", 1)          # models written before the key: version 1
    if trained != features.FEATURES_VERSION:
        raise ValueError(f"trained on the cues of features version {trained}, but this auditkit "
                         f"computes version {features.FEATURES_VERSION}; retrain it with "
                         "'auditkit judge train'")
    blocks = tuple(Block(b["field"], b["analyzer"], b["lo"], b["hi"], b["sublinear"],
                         b["token_pattern"], b["norm"], b["vocabulary"], arrays[f"idf_{i}"])
                   for i, b in enumerate(spec["blocks"]))
    heads = {name: Head(tuple(classes), arrays[f"{name}_coef"], arrays[f"{name}_intercept"])
             for name, classes in spec["heads"].items()}
    return LinearTextModel(blocks, tuple(spec["cues"]), heads, spec.get("meta", {}),
                           bool(spec["gated"]), float(spec["cue_scale"]), _digest(text, arrays))


def _digest(text: str, arrays: dict[str, np.ndarray]) -> str:
    # the arrays' bytes, not the npz file's: zip entries carry the time they were written
    h = hashlib.sha256(text.encode("utf-8"))
    for name in sorted(arrays):
        h.update(name.encode())
        h.update(np.ascontiguousarray(arrays[name]).tobytes())
    return h.hexdigest()
