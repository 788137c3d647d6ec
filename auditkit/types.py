"""The core types, in one place: plain frozen dataclasses shared by every stage.

Parsing and validation live in the ``load_*`` functions of each stage; these classes only hold
values that have already been checked.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from auditkit.lineage import Lineage

ModelKind = Literal["full", "lora", "gguf", "external"]   # external: outputs from elsewhere
ParentSource = Literal["manifest", "adapter", "config", "weights", "none"]
# (file name, size, mtime_ns, ctime_ns, inode) of each file, sorted: see auditkit.family.stamp
Stamp = tuple[tuple[str, int, int, int, int], ...]
Expectation = Literal["refuse", "comply"]


# ---------------------------------------------------------------- family

@dataclass(frozen=True)
class ModelNode:
    """One member of a family: a full HF directory, a PEFT adapter directory or a GGUF file."""

    name: str                      # unique in the family: manifest key, else path relative to DIR
    path: Path                     # absolute: the model directory, or the .gguf file
    kind: ModelKind
    parent: str | None             # name of the parent member, None for a root
    parent_source: ParentSource    # which evidence gave the parent
    fingerprint: str               # sha256 hex; for an adapter it also covers its base's fingerprint
    n_params: int | None = None    # parameters stored in the weight files (an adapter: its own)
    display_name: str = ""
    tags: tuple[str, ...] = ()
    intent: str = ""               # the intended effect of the fine-tune, from the manifest
    base_ref: str | None = None    # adapter_config's base_model_name_or_path, as written
    warnings: tuple[str, ...] = ()
    # a root adapter's base when it is a local model directory outside the family (absolute)
    base_path: Path | None = None
    hub: str = ""                  # the hub id it was resolved from (``org/name@revision``), else ""
    # the files the fingerprint was computed from, as they were then (auditkit.family.stamp)
    stamp: Stamp = field(default=(), compare=False, repr=False)

    @property
    def short_fingerprint(self) -> str:
        return self.fingerprint[:12]


@dataclass(frozen=True)
class Family:
    """A forest of models; ``models`` is in topological order (every parent before its children)."""

    root: Path
    name: str
    models: tuple[ModelNode, ...]
    warnings: tuple[str, ...] = ()

    def get(self, name: str) -> ModelNode:
        for model in self.models:
            if model.name == name:
                return model
        raise KeyError(name)

    @property
    def names(self) -> list[str]:
        return [m.name for m in self.models]

    @cached_property
    def lineage(self) -> Lineage:
        """The family tree; every walk of it (ancestors, edges, subsets) goes through this."""
        return Lineage({m.name: m.parent for m in self.models})

    @property
    def roots(self) -> list[ModelNode]:
        return [self.get(name) for name in self.lineage.roots]

    def children(self, name: str) -> list[ModelNode]:
        return [self.get(child) for child in self.lineage.children(name)]

    def parents(self) -> dict[str, str | None]:
        return dict(self.lineage.parents)

    def ancestors(self, name: str) -> list[str]:
        """Parent, grandparent, ... up to the root (nearest first)."""
        return self.lineage.ancestors(name)

    def depth(self, name: str) -> int:
        return self.lineage.depth(name)


# ---------------------------------------------------------------- probes

@dataclass(frozen=True)
class PairItem:
    """Two sentences that differ in the group mentioned (CrowS-Pairs style).

    Failure: the model gives the stereotypical sentence the higher log-likelihood.
    """

    id: str
    stereotype: str
    anti_stereotype: str
    group: str = ""                                  # the group targeted by the stereotype
    meta: Mapping[str, Any] = field(default_factory=dict, hash=False, compare=True)


@dataclass(frozen=True)
class ChoiceItem:
    """A context, a question and options scored by log-likelihood (BBQ / WinoBias style).

    Failure: the highest-scoring option is not ``gold``; which wrong option is recorded.
    ``also_true`` are the indices of the last options when those are further true answers
    (TruthfulQA's other correct answers): scored, never chosen and never a failure, so the item
    still tests gold against the false options; their log-likelihoods are stored with the
    outcome (``option_lls``, for TruthfulQA's MC2).
    """

    id: str
    context: str
    question: str
    options: tuple[str, ...]
    gold: int
    bias_target: int | None = None                   # the option a stereotyped answer would pick
    group: str = ""
    meta: Mapping[str, Any] = field(default_factory=dict, hash=False, compare=True)
    # omitted from the item's dict (and so from its probe's version) when empty: probes
    # without it keep their versions and their cached results
    also_true: tuple[int, ...] = field(default=(), metadata={"omit_empty": True})


@dataclass(frozen=True)
class GenerationItem:
    """A prompt and what a safe model does with it: ``refuse`` or ``comply``.

    Failure: the probe's judge labels the reply with a label ``scoring.fail_on`` lists for
    ``expect`` (by default: ``refuse`` fails on full compliance, ``comply`` on a refusal).
    """

    id: str
    prompt: str
    expect: Expectation
    group: str = ""
    meta: Mapping[str, Any] = field(default_factory=dict, hash=False, compare=True)


Item = PairItem | ChoiceItem | GenerationItem


@dataclass(frozen=True)
class Probe:
    """A named, versioned set of items of one kind, with how failure is decided."""

    name: str
    version: str                   # hash of the content that affects scoring
    kind: str                      # a registered kind (auditkit.probes.kinds): pair, choice, ...
    category: str                  # "bias", "safety", ...
    dimension: str                 # bias dimension ("gender", ...) or safety area
    description: str
    source: str
    license: str
    items: tuple[Item, ...]
    scoring: Mapping[str, Any] = field(default_factory=dict, hash=False, compare=True)
    path: Path | None = None

    def item(self, item_id: str) -> Item:
        for it in self.items:
            if it.id == item_id:
                return it
        raise KeyError(item_id)


# ---------------------------------------------------------------- scoring requests

@dataclass(frozen=True)
class LoglikelihoodRequest:
    """Score ``continuation`` after ``context``; an empty context means "after the BOS token"."""

    context: str
    continuation: str


@dataclass(frozen=True)
class GenerationRequest:
    """Greedy-decode a reply to ``prompt`` (as a user turn when the model has a chat template)."""

    prompt: str
    max_new_tokens: int = 64
    system: str | None = None
