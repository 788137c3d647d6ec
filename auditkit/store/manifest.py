"""The run manifest: a run's provenance (docs/run-format.md), declared once as dataclasses.

:func:`load_manifest` reads and checks it (strict: unknown keys, wrong types, duplicate names,
unknown parents and cycles are an :class:`AuditError` naming the file and the field);
:func:`manifest_json` gives what the run directory's writer stores. Fields written by older
versions of auditkit are optional, so every run directory it ever wrote still reads.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from auditkit.errors import AuditError
from auditkit.lineage import Lineage, LineageError
from auditkit.store.codec import decode, doc, encode

MANIFEST_SCHEMA = 1


@dataclass(frozen=True, kw_only=True)
class FamilyRef:
    name: str = doc("the family's name")
    root: str = doc("the family directory (absolute)")


@dataclass(frozen=True, kw_only=True)
class ModelEntry:
    """One model of the run."""

    name: str = doc("the member's name in the family")
    parent: str | None = doc("its nearest ancestor that is also in the run (null for none): "
                             "the analysis' lineage edges", None)
    family_parent: str | None = doc("its parent in the family", None)
    kind: str = doc("`full`, `lora` or `gguf`")
    fingerprint: str = doc("content fingerprint of its weights (keys the result cache)")
    display_name: str = doc("display name from family.yaml", "")
    intent: str = doc("the intended effect of the fine-tune, from family.yaml", "")
    tags: tuple[str, ...] = doc("tags from family.yaml", ())
    n_params: int | None = doc("number of parameters (an adapter's own)", None)


@dataclass(frozen=True, kw_only=True)
class ProbeJudge:
    """The judge of a probe's replies (generation probes)."""

    name: str = doc("the judge's name (docs/judge.md)")
    version: str = doc("the judge's version (keys the judgement cache)")
    agreement: dict[str, float] | None = doc("the judge's measured agreement with human labels, "
                                             "as the judge reports it (e.g. its held-out "
                                             "kappa); null when it reports none", None)
    judged: int = doc("distinct replies judged by this run", 0)
    cached: int = doc("distinct replies whose judgement was in the judgement cache", 0)


@dataclass(frozen=True, kw_only=True)
class ProbeEntry:
    """One probe of the run."""

    name: str = doc("probe name")
    version: str = doc("probe version (hash of its content; the judge does not enter it)")
    kind: str = doc("`pair`, `choice` or `generation`")
    category: str = doc("probe category (`bias`, `safety`, ...)")
    dimension: str = doc("probe dimension (`gender`, `harmful`, ...)")
    n_items: int = doc("number of items scored")
    judge: ProbeJudge | None = doc("who judged its replies (generation probes; null for the "
                                   "others)", None)


@dataclass(frozen=True, kw_only=True)
class Timings:
    setup_s: float | None = doc("seconds to discover the family and load the probes", None)
    scoring_s: float | None = doc("seconds of scoring (cache lookups included)", None)
    judging_s: float | None = doc("seconds of judging replies (cache lookups included)", None)
    total_s: float = doc("seconds in all")


@dataclass(frozen=True, kw_only=True)
class GroupTiming:
    """One model group loaded for scoring (a base and its LoRA adapters)."""

    group: str = doc("the group's base model")
    scored: int = doc("outcomes it scored")
    seconds: float = doc("seconds, loading included")
    threads: int | None = doc("CPU threads torch used (null on a GPU or when the backend does "
                              "not say)")


@dataclass(frozen=True, kw_only=True)
class Scoring:
    scored: int = doc("outcomes scored by this run")
    cached: int = doc("outcomes found in the result cache")
    groups_loaded: tuple[str, ...] = doc("model groups loaded, by base model")
    groups: tuple[GroupTiming, ...] = doc("per loaded group", ())


@dataclass(frozen=True, kw_only=True)
class InferredEdgeEntry:
    """One edge of the lineage inferred from the weights."""

    parent: str = doc("the parent the weights show")
    child: str = doc("the member")
    distance: float = doc("mean relative weight distance (an adapter: its delta's relative "
                          "norm)")
    confidence: float = doc("bootstrap support of this parent over the weight matrices")
    evidence: str = doc("`weights` (full models) or `adapter delta`")


@dataclass(frozen=True, kw_only=True)
class LineageCheckEntry:
    """The declared lineage checked against the weights (`--check-lineage`;
    docs/family-format.md)."""

    edges: tuple[InferredEdgeEntry, ...] = doc("the inferred edges")
    roots: tuple[str, ...] = doc("the roots of the inferred trees")
    warnings: tuple[str, ...] = doc("where the declared parents disagree with the weights, "
                                    "and members the inference skipped")
    used: bool = doc("whether the run took the inferred parent of members that declare none "
                     "(`--infer-lineage`)", False)


@dataclass(frozen=True, kw_only=True)
class RunManifest:
    """A run's provenance: what was scored, with what, where and how."""

    tool_version: str = doc("auditkit version that wrote the run")
    created: str = doc("when the run was written (ISO 8601, UTC)")
    family: FamilyRef = doc("the audited family")
    probes_path: str | None = doc("the probe file or directory (null: the built-in battery)",
                                  None)
    models: tuple[ModelEntry, ...] = doc("the run's models, parents first")
    probes: tuple[ProbeEntry, ...] = doc("the run's probes")
    selection: str | None = doc("item selection (`quick`) or null for all items")
    device: str = doc("device the models ran on")
    dtype: str = doc("dtype the models ran in")
    seed: int = doc("seed of the run (and of its analysis)")
    config: str | None = doc("hash of the scoring configuration", None)
    timings: Timings = doc("wall-clock seconds")
    scoring: Scoring | None = doc("what scoring did", None)
    lineage_check: LineageCheckEntry | None = doc("the lineage inferred from the weights and "
                                                  "its disagreements (null: not checked)", None)

    @property
    def lineage(self) -> Lineage:
        """The run's lineage (``models[].parent``); raises LineageError when it is not a forest
        of the run's models (:func:`load_manifest` has checked that)."""
        return Lineage({m.name: m.parent for m in self.models})


def manifest_json(manifest: RunManifest) -> dict[str, Any]:
    """The manifest as written to the run directory (``schema`` first)."""
    return {"schema": MANIFEST_SCHEMA, **encode(manifest)}


def load_manifest(path: Path) -> RunManifest:
    """Read and check a run manifest; AuditError naming ``path`` and the field otherwise."""
    raw = _read_json(path)
    if raw.get("schema") != MANIFEST_SCHEMA:
        raise AuditError(path, f"expected {MANIFEST_SCHEMA}, found {raw.get('schema')!r}",
                         field="schema")
    manifest = decode(RunManifest, {k: v for k, v in raw.items() if k != "schema"}, path)
    check_models(path, manifest)
    return manifest


def check_models(path: Path, manifest: RunManifest) -> Lineage:
    """At least one model, unique names, parents among the run's models, no cycle."""
    if not manifest.models:
        raise AuditError(path, "expected a non-empty list of models", field="models")
    seen: set[str] = set()
    for j, m in enumerate(manifest.models):
        if m.name in seen:
            raise AuditError(path, f"duplicate model name {m.name!r}", field=f"models[{j}].name")
        seen.add(m.name)
    try:
        return manifest.lineage
    except LineageError as err:
        j = next(j for j, m in enumerate(manifest.models) if m.name == err.name)
        raise AuditError(path, f"{err}; expected null or another model of the run",
                         field=f"models[{j}].parent") from None


def _read_json(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise AuditError(path, "missing: expected the run manifest written by 'auditkit run'")
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise AuditError(path, f"not valid JSON ({err})",
                         line=getattr(err, "lineno", None)) from None
    if not isinstance(raw, dict):
        raise AuditError(path, f"expected a JSON object, found {type(raw).__name__}")
    return raw
