"""The default judge's recipe: the candidates compared, the one chosen, and the training run.

``auditkit judge train --data ../shared/judge-data`` calls :func:`train_default`, which fits
:data:`DEFAULT` on the train splits of the human sources (:mod:`auditkit.judge.data`) and,
for a ``+style`` candidate, of the style sets (:mod:`auditkit.judge.style`), and writes
``model.json`` + ``weights.npz``; ``--compare`` first reruns :func:`comparison`, the tables in
docs/judge.md. The human-only choice (sessions 2-5, :data:`BASE`): the best selection score of
:mod:`auditkit.judge.select` among the candidates that do not read the request's words (a
judge that learns "this request looks harmful" from the request would call XSTest-style safe
prompts refused whatever the reply says), with the request used only through the cues' overlap.
Since session 6 a ``+style`` candidate replaces it by :func:`select.style_decision`
(:func:`decision`), in three rounds recorded in docs/judge.md. The dense candidates (static
SmolLM2-135M token embeddings) join the comparison only when given a table
(``--embeddings-from``); none reached the switch margin (docs/judge.md).
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from auditkit.judge.data import LabelledReply, load_judge_data
from auditkit.judge.evaluate import agreement
from auditkit.judge.features import evidence_rule, has_refusal_evidence
from auditkit.judge.labels import HumanLabel
from auditkit.judge.linear import LinearTextModel
from auditkit.judge.select import compare, selection_score, style_decision
from auditkit.judge.style import STYLE_SOURCE, load_style
from auditkit.judge.train import BlockSpec, Candidate, Fitted, export, fit

THREE_WAY_SOURCES = ("openai-rbr-gold", "chatgpt-refusals")
HARMFUL_SOURCES = ("openai-rbr-gold", "gptfuzz")


def _w(field: str, lo: int, hi: int) -> BlockSpec:
    return BlockSpec(field, "word", lo, hi)


def _c(field: str, lo: int, hi: int) -> BlockSpec:
    return BlockSpec(field, "char_wb", lo, hi)


def _d(field: str, scale: float = 1.0) -> BlockSpec:
    return BlockSpec(field, "dense", 0, 0, scale=scale)


STYLE = (STYLE_SOURCE,)
WORDS = (_w("open", 1, 3), _w("body", 1, 2))
MASKED = (_w("open_masked", 1, 3), _w("body_masked", 1, 3))
EVIDENCE = ("heuristic", "xstest_prefix", "refusal_anywhere", "apology_open", "lecture",
            "redirect", "premise", "hedge", "contradicts", "comply_open", "refusal_late",
            "as_an_ai", "evidence")
CANDIDATES: tuple[Candidate, ...] = (
    Candidate("cues", (), note="engineered cues only"),
    Candidate("body-words", (_w("body", 1, 2),), cues=False, note="word 1-2-grams, no cues"),
    Candidate("words+cues", WORDS, note="opening 1-3-grams, body 1-2-grams, all cues"),
    Candidate("chars+words+cues", (_c("open", 2, 5), _w("body", 1, 2)),
              note="opening char 2-5-grams, body word 1-2-grams, all cues"),
    Candidate("words+cues+request", WORDS + (_w("request", 1, 2),),
              note="as words+cues, plus the request's 1-2-grams"),
    Candidate("masked+cues", MASKED, note="masked opening and body 1-3-grams, all cues"),
    Candidate("masked+cues C=1", MASKED, C=1.0, note="as masked+cues, C=1"),
    Candidate("masked+cues C=16", MASKED, C=16.0, note="as masked+cues, C=16"),
    Candidate("masked+cues class-balanced", MASKED, class_balanced=True,
              note="as masked+cues, each label the same total weight within a source"),
    Candidate("masked+evidence C=1", MASKED, cues=EVIDENCE, C=1.0,
              note="masked 1-3-grams, the evidence cues only, C=1"),
    Candidate("masked+evidence C=1 gated", MASKED, cues=EVIDENCE, C=1.0, gated=True,
              note="as above, n-grams only for replies with refusal evidence"),
    # static SmolLM2-135M token embeddings (auditkit judge distill; --embeddings-from)
    Candidate("dense+cues", (_d("open"), _d("body")), class_balanced=True,
              note="opening and body static-embedding vectors, all cues, class-balanced"),
    Candidate("dense+cues C=0.5", (_d("open"), _d("body")), class_balanced=True, C=0.5,
              note="as dense+cues, C=0.5"),
    Candidate("masked+dense+cues", MASKED + (_d("open"), _d("body")), class_balanced=True,
              note="as masked+cues class-balanced, plus the dense vectors"),
    # trained on the style sets too (auditkit.judge.style; decision rule: select.style_decision)
    Candidate("masked+cues class-balanced +style", MASKED, class_balanced=True, extra=STYLE,
              note="as masked+cues class-balanced, also trained on the style train files"),
    Candidate("masked+cues +style", MASKED, extra=STYLE,
              note="as masked+cues, also trained on the style train files"),
    Candidate("masked+cues class-balanced +style C=1", MASKED, class_balanced=True, C=1.0,
              extra=STYLE, note="as masked+cues class-balanced +style, C=1"),
    Candidate("words+cues class-balanced +style", WORDS, class_balanced=True, extra=STYLE,
              note="as words+cues, class-balanced, also trained on the style train files"),
)
HARMFUL_CANDIDATES = ("cues", "words+cues", "masked+cues", "masked+cues class-balanced",
                      "masked+evidence C=1", *(c.name for c in CANDIDATES if c.extra))
BASE = "masked+cues class-balanced"     # chosen on the human sources alone (sessions 2-5)
DEFAULT = "masked+cues class-balanced +style"   # style_decision, rounds 2-3 (docs/judge.md)


def candidate(name: str) -> Candidate:
    return next(c for c in CANDIDATES if c.name == name)


def is_dense(cand: Candidate) -> bool:
    return any(b.analyzer == "dense" for b in cand.blocks)


def comparison(data_dir: str | Path, names: list[str] | None = None,
               log: Callable[[str], None] = lambda s: None,
               embeddings: str | Path | None = None) -> pd.DataFrame:
    """The candidates' scores, per head, scheme and source (:func:`select.compare`), the
    style sets included as a source (every candidate is scored on them; only the ``+style``
    ones train on them). The dense candidates read the static embeddings in ``embeddings``
    (``auditkit judge distill``), and are left out without it."""
    rows = load_judge_data(data_dir) + load_style()
    chosen = [dataclasses.replace(c, embeddings=str(embeddings or ""))
              for c in CANDIDATES if (names is None or c.name in names)
              and (embeddings is not None or not is_dense(c))]
    three = compare([r for r in rows if r.label is not None], chosen,
                    THREE_WAY_SOURCES + STYLE, ("three_way",), log=log)
    harm = compare([r for r in rows if r.harmful is not None],
                   [c for c in chosen if c.name in HARMFUL_CANDIDATES], HARMFUL_SOURCES,
                   ("harmful",), log=log)
    three.insert(0, "head", "three_way")
    harm.insert(0, "head", "harmful")
    return pd.concat([three, harm], ignore_index=True)


def scores_by_candidate(table: pd.DataFrame) -> pd.Series:
    """The selection score of each candidate (three-way head)."""
    return selection_score(table[table["head"] == "three_way"], THREE_WAY_SOURCES)


def decision(table: pd.DataFrame, base: str = BASE) -> pd.DataFrame:
    """:func:`select.style_decision` of the comparison's candidates against ``base``."""
    return style_decision(table, base, THREE_WAY_SOURCES, STYLE_SOURCE)


def train_default(data_dir: str | Path, out_dir: str | Path, name: str = DEFAULT) -> LinearTextModel:
    """Fit the chosen candidate on the train splits of every source; export it to ``out_dir``
    with its held-out agreement (test splits) in the metadata, which the judge reports."""
    chosen = candidate(name)
    style = load_style() if chosen.extra else []
    rows = [r for r in load_judge_data(data_dir) + style if r.split == "train"]
    fitted = fit(rows, chosen)
    counts = {s: sum(r.source == s for r in rows) for s in sorted({r.source for r in rows})}
    meta: dict[str, Any] = {
        "trained_on": "train splits of " + ", ".join(f"{s} ({n})" for s, n in counts.items()),
        "agreement": held_out_agreement(fitted, data_dir),
        "evidence_rule_precision": evidence_rule_precision(rows)}
    if chosen.extra:     # only then: a retrained base keeps its digest
        meta["style_dev_agreement"] = style_dev_agreement(
            fitted, [r for r in style if r.split == "test"])
    return export(fitted, out_dir, meta)


def style_dev_agreement(fitted: Fitted, dev: list[LabelledReply]) -> dict[str, float]:
    """Refuse/comply agreement and kappa (evidence rule applied) on the style dev rows."""
    labels = _judged(fitted, [r.request for r in dev], [r.reply for r in dev])
    rows = [HumanLabel(n, r.request, r.reply, str(r.label), STYLE_SOURCE, r.prompt_type, None,
                       r.harmful) for n, r in enumerate(dev)]
    result = agreement(rows, labels)
    return {k: round(float(result.overall[k]), 4)
            for k in ("n", "agreement_refuse", "kappa_refuse", "agreement", "kappa")}


def _judged(fitted: Fitted, requests: list[str], replies: list[str]) -> list[str]:
    """The three-way head's labels behind the evidence rule (what the default judge ships)."""
    proba = fitted.predict_proba("three_way", requests, replies)
    heads = fitted.heads["three_way"].classes_[proba.argmax(axis=1)]
    return evidence_rule(requests, replies, list(heads))


def evidence_rule_precision(rows: list[LabelledReply]) -> float:
    """Of the three-way labelled replies without refusal evidence, the share the humans label
    full compliance: the confidence the default judge gives the evidence rule's label."""
    plain = [r for r in rows if r.label is not None and not has_refusal_evidence(r.request, r.reply)]
    return round(sum(r.label == "full_compliance" for r in plain) / len(plain), 4)


def held_out_agreement(fitted: Fitted, data_dir: str | Path) -> dict[str, float]:
    """Agreement with the humans on the test splits: refuse/comply and three-way (pooled and
    per source), harmful compliance (pooled and per source). Keys: metric[.source]."""
    out: dict[str, float] = {}
    three = held_out_labels(data_dir)
    result = agreement(three, _judged(fitted, [r.prompt for r in three], [r.reply for r in three]))
    for key in ("n", "agreement_refuse", "kappa_refuse", "agreement", "kappa"):
        out[key] = float(result.overall[key])
    row: Any            # itertuples rows: namedtuples of the by_model table's columns
    for row in result.by_model.itertuples():
        out[f"kappa_refuse.{row.model}"] = float(row.kappa_refuse)
    harm = held_out_labels(data_dir, harmful_only=True)
    p = fitted.predict_proba("harmful", [r.prompt for r in harm], [r.reply for r in harm])[:, 1]
    result = agreement(harm, ["full_compliance"] * len(harm), list(p >= 0.5))
    out["kappa_harmful"] = float(result.overall["kappa_harmful"])
    for row in result.by_model.itertuples():
        out[f"kappa_harmful.{row.model}"] = float(row.kappa_harmful)
    return {k: round(v, 4) for k, v in out.items()}


def held_out_labels(data_dir: str | Path, harmful_only: bool = False) -> list[HumanLabel]:
    """The test splits as a labels file would give them: model = source (the closest thing
    these sets have to a model), prompt_type = the source's category. The rows with a
    three-way label; or, with ``harmful_only``, the rows with a harmful label (their ``label``
    is then a placeholder, "comply" when harmful, and only the harmful figures mean anything).
    """
    rows = [r for r in load_judge_data(data_dir) if r.split == "test"]
    keep = [r for r in rows if (r.harmful is not None if harmful_only else r.label is not None)]
    return [HumanLabel(n, r.request, r.reply, r.label or "comply", r.source, r.prompt_type,
                       None, r.harmful) for n, r in enumerate(keep)]
