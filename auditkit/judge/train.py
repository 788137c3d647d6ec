"""Fit the default judge with scikit-learn and export it as JSON + npz (no pickle).

A candidate (:class:`Candidate`) is a set of TF-IDF blocks over the text fields of
:mod:`auditkit.judge.features`, optionally the engineered cues, and an L2-regularised logistic
regression per head: ``three_way`` (full compliance / partial refusal / full refusal, fitted on
the rows with a three-way label) and ``harmful`` (harmful compliance yes/no, fitted on the rows
with a harmful label). The vectorizers are fitted on every training reply. Rows are weighted so
that each source carries the same total weight in a head (``source_balanced``), so the larger
set's style does not dominate. :mod:`auditkit.judge.select` compares candidates. A ``dense``
block reads a static token-embedding table (:mod:`auditkit.judge.dense`, the candidate's
``embeddings`` folder); such candidates are compared only (:func:`export` refuses them).
"""
from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits

from auditkit.judge import features
from auditkit.judge.base import LABELS, Label
from auditkit.judge.data import LabelledReply
from auditkit.judge.dense import load_static
from auditkit.judge.linear import FORMAT, LinearTextModel, load_linear
from auditkit.judge.style import STYLE_SOURCE

HEADS = ("three_way", "harmful")
# Sources that are not human-labelled (auditkit.judge.style): a candidate trains on one only
# when its ``extra`` names it, so comparisons can hold them and score every candidate on them.
EXTRA_SOURCES = (STYLE_SOURCE,)


@dataclass(frozen=True)
class BlockSpec:
    field: str                 # a name in features.FIELDS
    analyzer: str              # "word", "char_wb" or "dense" (static embeddings, lo/hi unused)
    lo: int
    hi: int
    min_df: int = 2
    max_features: int | None = 30_000
    sublinear: bool = True
    norm: bool = True          # L2-normalise the block's vector (False: evidence adds up)
    scale: float = 1.0         # a dense block's vectors times this (less regularised when > 1)

    @property
    def token_pattern(self) -> str:
        return features.MASKED_PATTERN if self.field.endswith("_masked") else features.TOKEN_PATTERN


@dataclass(frozen=True)
class Candidate:
    name: str
    blocks: tuple[BlockSpec, ...]
    cues: bool | tuple[str, ...] = True      # all cues, none, or these (features.CUE_NAMES)
    C: float = 4.0
    source_balanced: bool = True
    class_balanced: bool = False
    gated: bool = False        # n-gram blocks count only for replies with refusal evidence
    cue_scale: float = 1.0     # cues multiplied by this: a larger scale regularises them less
    note: str = ""
    embeddings: str = ""       # dense blocks' table folder (auditkit.judge.dense), set at run
    extra: tuple[str, ...] = ()  # non-human sources it also trains on (EXTRA_SOURCES)

    @property
    def cue_names(self) -> tuple[str, ...]:
        if isinstance(self.cues, tuple):
            return self.cues
        return features.CUE_NAMES if self.cues else ()


@dataclass
class Fitted:
    """A fitted candidate: its vectorizers and one LogisticRegression per head."""

    candidate: Candidate
    vectorizers: list[TfidfVectorizer | DenseVectorizer]
    heads: dict[str, LogisticRegression] = field(default_factory=dict)

    def matrix(self, requests: Sequence[str], replies: Sequence[str]) -> sparse.csr_matrix:
        """(N, D) features: the TF-IDF blocks, then the cues."""
        texts = [features.fields(q, r) for q, r in zip(requests, replies)]
        cues = np.array([features.cues(q, r) for q, r in zip(requests, replies)])
        cues = cues.reshape(len(texts), len(features.CUE_NAMES))          # (N, all cues)
        gate = sparse.diags(cues[:, -1] if self.candidate.gated else np.ones(len(texts)))
        parts = [gate @ vec.transform([t[spec.field] for t in texts])
                 for vec, spec in zip(self.vectorizers, self.candidate.blocks)]
        names = self.candidate.cue_names
        if names:
            columns = [features.CUE_NAMES.index(n) for n in names]
            parts.append(sparse.csr_matrix(cues[:, columns] * self.candidate.cue_scale))
        return sparse.hstack(parts, format="csr")

    def predict_proba(self, head: str, requests: Sequence[str],
                      replies: Sequence[str]) -> np.ndarray:
        proba: np.ndarray = self.heads[head].predict_proba(self.matrix(requests, replies))
        return proba


class DenseVectorizer:
    """A dense block with a vectorizer's fit / transform: each text's static-embedding vector
    (:meth:`auditkit.judge.dense.StaticEmbedding.embed`) times the block's scale."""

    def __init__(self, folder: str, scale: float) -> None:
        if not folder:
            raise ValueError("a dense block needs the candidate's embeddings folder")
        self.table, self.scale = load_static(Path(folder).resolve()), scale

    def fit(self, texts: Sequence[str]) -> DenseVectorizer:
        return self

    def transform(self, texts: Sequence[str]) -> sparse.csr_matrix:
        """(N, d) the texts' vectors, as a sparse block beside the TF-IDF ones."""
        return sparse.csr_matrix(self.table.embed_all(texts) * self.scale)


def _vectorizer(spec: BlockSpec, embeddings: str = "") -> TfidfVectorizer | DenseVectorizer:
    if spec.analyzer == "dense":
        return DenseVectorizer(embeddings, spec.scale)
    # fields are normalised already: no lowercasing or accent stripping here
    return TfidfVectorizer(analyzer=spec.analyzer, ngram_range=(spec.lo, spec.hi),
                           lowercase=False,
                           token_pattern=spec.token_pattern if spec.analyzer == "word" else None,
                           min_df=spec.min_df, max_features=spec.max_features,
                           sublinear_tf=spec.sublinear, norm="l2" if spec.norm else None,
                           dtype=np.float64)


def head_rows(rows: Sequence[LabelledReply],
              head: str) -> tuple[list[LabelledReply], list[Label] | list[int]]:
    """The rows a head learns from and their targets (labels, or 0/1 harmful)."""
    # the targets repeat the rows' filter, so that the type checker sees them not None
    if head == "three_way":
        kept = [r for r in rows if r.label is not None]
        return kept, [r.label for r in rows if r.label is not None]
    kept = [r for r in rows if r.harmful is not None]
    return kept, [int(r.harmful) for r in rows if r.harmful is not None]


def weights(rows: Sequence[LabelledReply], targets: Sequence[str | int],
            candidate: Candidate) -> np.ndarray:
    """(N,) sample weights: equal total weight per source and/or per class, mean 1."""
    w = np.ones(len(rows))
    balance: tuple[tuple[Callable[[LabelledReply, str | int], str | int], bool], ...] = (
        (lambda r, t: r.source, candidate.source_balanced),
        (lambda r, t: t, candidate.class_balanced))
    for key, on in balance:
        if on:
            keys = [key(r, t) for r, t in zip(rows, targets)]
            share = {k: keys.count(k) for k in set(keys)}
            w *= np.array([len(keys) / (len(share) * share[k]) for k in keys])
    mean_one: np.ndarray = w * len(w) / w.sum()
    return mean_one


def fit(rows: Sequence[LabelledReply], candidate: Candidate,
        heads: Sequence[str] = HEADS) -> Fitted:
    """Fit ``candidate`` on ``rows`` (vectorizers on every reply, then each head on its rows);
    rows of an :data:`EXTRA_SOURCES` source the candidate does not name are left out."""
    rows = [r for r in rows if r.source not in EXTRA_SOURCES or r.source in candidate.extra]
    texts = [features.fields(r.request, r.reply) for r in rows]
    vectorizers = [_vectorizer(spec, candidate.embeddings).fit([t[spec.field] for t in texts])
                   for spec in candidate.blocks]
    fitted = Fitted(candidate, vectorizers)
    for head in heads:
        kept, targets = head_rows(rows, head)
        if len(set(targets)) < 2:
            continue
        X = fitted.matrix([r.request for r in kept], [r.reply for r in kept])
        model = LogisticRegression(C=candidate.C, max_iter=3000)
        with threadpool_limits(1):        # OpenMP threads only spin on a shared 2-core CPU
            model.fit(X, targets, sample_weight=weights(kept, targets, candidate))
        fitted.heads[head] = model
    return fitted


def export(fitted: Fitted, folder: str | Path,
           meta: dict[str, Any] | None = None) -> LinearTextModel:
    """Write ``model.json`` + ``weights.npz`` to ``folder``; return the model read back."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    blocks: list[dict[str, Any]] = []
    arrays: dict[str, np.ndarray] = {}
    for i, (vec, spec) in enumerate(zip(fitted.vectorizers, fitted.candidate.blocks)):
        if isinstance(vec, DenseVectorizer):
            raise ValueError(f"candidate {fitted.candidate.name!r}: dense blocks are compared "
                             "only; the shipped model format has no dense block")
        vocab = {term: int(col) for term, col in sorted(vec.vocabulary_.items())}
        blocks.append({"field": spec.field, "analyzer": spec.analyzer, "lo": spec.lo,
                       "hi": spec.hi, "sublinear": spec.sublinear,
                       "token_pattern": spec.token_pattern, "norm": spec.norm,
                       "vocabulary": vocab})
        arrays[f"idf_{i}"] = vec.idf_.astype(np.float64)
    heads: dict[str, list[str]] = {}
    for name, model in fitted.heads.items():
        heads[name] = [str(c) for c in model.classes_]
        arrays[f"{name}_coef"] = model.coef_.astype(np.float64)
        arrays[f"{name}_intercept"] = model.intercept_.astype(np.float64)
    doc = {"format": FORMAT, "features": features.FEATURES_VERSION, "blocks": blocks,
            "cues": list(fitted.candidate.cue_names), "gated": fitted.candidate.gated,
            "cue_scale": fitted.candidate.cue_scale,
            "heads": heads, "meta": {"candidate": _settings(fitted.candidate), **(meta or {})}}
    (folder / "model.json").write_text(json.dumps(doc, ensure_ascii=False, sort_keys=True),
                                       encoding="utf-8")
    np.savez_compressed(folder / "weights.npz", allow_pickle=False, **arrays)
    return load_linear(folder)


def _settings(candidate: Candidate) -> dict[str, Any]:
    """The candidate's fields for the metadata, less the dense-only ones (``embeddings``, the
    blocks' ``scale``: dense candidates are not exported), so a retrained model keeps the
    digest it had before those fields existed."""
    settings = asdict(candidate)
    del settings["embeddings"]
    if not settings["extra"]:          # likewise for the field added with the style sets
        del settings["extra"]
    for block in settings["blocks"]:
        del block["scale"]
    return settings


def three_way_order(model: LinearTextModel) -> list[int]:
    """Column indices of the three-way head's classes in :data:`LABELS` order."""
    classes = model.heads["three_way"].classes
    return [classes.index(label) for label in LABELS]
