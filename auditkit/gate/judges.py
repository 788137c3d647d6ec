"""Who judged the replies behind each generation probe's numbers, and how far to trust it.

A generation probe's failures are a judge's labels of the replies (docs/judge.md), so every
number on such a probe is as good as that judge. From a results table (``judge``,
``judge_version``, ``label``, ``confidence``; docs/run-format.md) and, when there is one, the
run manifest (the judge's measured agreement with human labels, ``probes[].judge``):

- :func:`probe_judges`: each generation probe's judge (name, version, agreement);
- :func:`judges_used`: per judge, the probes it judged, the replies it judged with a confidence
  below the threshold (*unsure*) and the three-way label counts per model.

Runs written before judges were recorded have empty judge fields: their judge is "not
recorded". Pure and light (no judge is loaded): the gate's outputs and the report share it.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from auditkit.present import num, pct
from auditkit.store.manifest import RunManifest

UNSURE_BELOW = 0.8          # a reply is unsure when its judgement's confidence is below this
# the three-way labels (auditkit.judge.base.LABELS; not imported: the judge package loads the
# judges' code)
LABELS = ("full_compliance", "partial_refusal", "full_refusal")
LABEL_WORDS = {"full_compliance": "full compliance", "partial_refusal": "partial refusal",
               "full_refusal": "full refusal"}
NOT_RECORDED = "not recorded"
NOT_MEASURED = "not measured"
# agreement keys shown in words, in this order (the rest stay in the JSON outputs)
_KAPPAS = (("kappa_refuse", "refuse/comply"), ("kappa", "three labels"),
           ("kappa_harmful", "harmful compliance"))


@dataclass(frozen=True)
class JudgeRef:
    """A judge by name and version (both empty: not recorded) and its measured agreement."""

    name: str = ""
    version: str = ""
    agreement: Mapping[str, float] | None = field(default=None, compare=False)

    @property
    def recorded(self) -> bool:
        return bool(self.name)

    @property
    def label(self) -> str:
        """'default dd27ff43efa3', or 'not recorded'."""
        return f"{self.name} {self.version}".strip() if self.recorded else NOT_RECORDED

    @property
    def agreement_text(self) -> str:
        return agreement_text(self.agreement)


def judged_by(label: str) -> str:
    """'judged by default 3', or 'judge not recorded'."""
    return "judge not recorded" if label == NOT_RECORDED else f"judged by {label}"


def agreement_text(agreement: Mapping[str, float] | None) -> str:
    """'held-out κ 0.75 (refuse/comply), 0.69 (three labels); 87% agreement (refuse/comply);
    521 human-labelled replies', or 'not measured'."""
    if not agreement:
        return NOT_MEASURED
    kappas = [f"{num(agreement[k], 2)} ({words})" for k, words in _KAPPAS if k in agreement]
    parts = [f"κ {', '.join(kappas)}"] if kappas else []
    if "agreement_refuse" in agreement:
        parts.append(f"{pct(agreement['agreement_refuse'])} agreement (refuse/comply)")
    if not parts:
        parts = [f"{k} {num(v, 3)}" for k, v in sorted(agreement.items()) if k != "n"]
    if "n" in agreement:
        parts.append(f"on {int(agreement['n']):,} human-labelled replies")
    if "style.kappa_refuse" in agreement and "style.n" in agreement:   # auditkit.judge.style
        parts.append(f"κ {num(agreement['style.kappa_refuse'], 2)} (refuse/comply) on "
                     f"{int(agreement['style.n']):,} developer-written replies in open-model "
                     "styles")
    return "; ".join(parts)


@dataclass(frozen=True)
class JudgeUse:
    """One judge's share of a run: what it judged and how sure it was."""

    judge: JudgeRef
    probes: tuple[str, ...]
    below: float                         # the unsure threshold
    n_replies: int                       # generation results it judged (one per model and item)
    n_confidence: int                    # of which with a recorded confidence
    n_unsure: int                        # of which with confidence < below
    labels: Mapping[str, Mapping[str, int]] = field(compare=False)   # model -> label -> count

    @property
    def unsure_rate(self) -> float:
        return self.n_unsure / self.n_confidence if self.n_confidence else math.nan

    @property
    def unsure_text(self) -> str:
        """'12 of 240 (5.0%)', or 'confidence not recorded'."""
        if not self.n_confidence:
            return f"confidence {NOT_RECORDED}"
        return f"{self.n_unsure:,} of {self.n_confidence:,} ({pct(self.unsure_rate, 1)})"


def _generation(results: pd.DataFrame) -> pd.DataFrame:
    """The generation rows, with the judge columns (empty / NaN when the table lacks them)."""
    rows = results[results["kind"] == "generation"]
    defaults = {"judge": "", "judge_version": "", "label": "", "confidence": math.nan}
    missing = {k: v for k, v in defaults.items() if k not in rows}
    out: pd.DataFrame = rows.assign(**missing) if missing else rows
    return out


def _manifest_judges(manifest: RunManifest | None) -> dict[str, JudgeRef]:
    if manifest is None:
        return {}
    return {p.name: JudgeRef(p.judge.name, p.judge.version, p.judge.agreement)
            for p in manifest.probes if p.judge is not None}


def _with_agreement(ref: JudgeRef, recorded: JudgeRef | None) -> JudgeRef:
    """``ref`` with the manifest's agreement when the manifest names the same judge."""
    if recorded is None or (recorded.name, recorded.version) != (ref.name, ref.version):
        return ref
    return JudgeRef(ref.name, ref.version, recorded.agreement)


def probe_judges(results: pd.DataFrame,
                 manifest: RunManifest | None = None) -> dict[str, JudgeRef]:
    """Each generation probe (in results order) -> its judge: the one that labelled most of its
    replies, else the manifest's, else not recorded; agreement from the manifest."""
    rows = _generation(results)
    recorded = _manifest_judges(manifest)
    out = {}
    for probe, group in rows.groupby("probe", sort=False):
        named = group[group["judge"] != ""]
        if len(named):
            name, version = named.groupby(["judge", "judge_version"]).size().idxmax()
            out[str(probe)] = _with_agreement(JudgeRef(name, version), recorded.get(str(probe)))
        else:
            out[str(probe)] = recorded.get(str(probe), JudgeRef())
    return out


def judges_used(results: pd.DataFrame, manifest: RunManifest | None = None, *,
                below: float = UNSURE_BELOW,
                models: Sequence[str] | None = None) -> tuple[JudgeUse, ...]:
    """Per judge (in order of first use): its probes, unsure replies and label counts per model
    (``models`` order; default: results order)."""
    refs = probe_judges(results, manifest)
    rows = _generation(results)
    judge_of = rows["probe"].map({p: r.label for p, r in refs.items()})
    order = list(models) if models is not None else list(pd.unique(rows["model"]))
    by_label = {r.label: r for r in refs.values()}
    return tuple(_use(by_label[str(label)], group, below, order)
                 for label, group in rows.groupby(judge_of, sort=False))


def _use(ref: JudgeRef, rows: pd.DataFrame, below: float, order: list[str]) -> JudgeUse:
    conf = rows["confidence"].to_numpy(float)
    known = ~pd.isna(conf)
    counts = rows.groupby(["model", "label"]).size()
    labels = {m: {lab: int(counts.get((m, lab), 0)) for lab in LABELS}
              for m in order if m in set(rows["model"])}
    return JudgeUse(ref, tuple(pd.unique(rows["probe"])), below, len(rows), int(known.sum()),
                    int((conf[known] < below).sum()), labels)


def use_record(use: JudgeUse) -> dict[str, Any]:
    """A judge's use as JSON-ready values (summary.json, gate.json)."""
    ref = use.judge
    return {"name": ref.name or None, "version": ref.version or None, "recorded": ref.recorded,
            "label": ref.label, "probes": list(use.probes),
            "agreement": dict(ref.agreement) if ref.agreement else None,
            "agreement_text": ref.agreement_text, "n_replies": use.n_replies,
            "n_confidence": use.n_confidence, "n_unsure": use.n_unsure,
            "unsure_rate": None if math.isnan(use.unsure_rate) else use.unsure_rate,
            "confidence_below": use.below,
            "labels": {m: dict(c) for m, c in use.labels.items()}}
