"""Lineage from weights: the tree the weights show, and where the declared tree disagrees.

Members are grouped by architecture (config model_type, matrix names and shapes, tokenizer
vocabulary); full models of a group form trees by weight distance, directed by kurtosis
(:mod:`auditkit.family.infer_tree`); each LoRA adapter hangs from a full model of a group whose
matrices it fits. GGUF members and members with only pickle weights are skipped, with the
reason. Method and limits: docs/family-format.md, "Lineage from weights".
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from auditkit.errors import AuditError
from auditkit.family.infer_stats import adapter_stats, full_stats
from auditkit.family.infer_tree import (
    bootstrap_adapter,
    bootstrap_full,
    full_tree,
    place_adapter,
)
from auditkit.family.infer_weights import FullWeights, LoraWeights, fits, read_member
from auditkit.lineage import Lineage
from auditkit.store.manifest import InferredEdgeEntry, LineageCheckEntry
from auditkit.types import Family, ModelKind, ModelNode


@dataclass(frozen=True)
class InferredEdge:
    parent: str
    child: str
    distance: float     # mean relative distance (an adapter: its delta's relative norm)
    confidence: float   # bootstrap support of this parent, direction included
    evidence: str       # "weights" (full models) or "adapter delta"


@dataclass(frozen=True)
class InferredTree:
    """The members of one architecture and the forest the weights give them."""

    architecture: str
    members: tuple[str, ...]
    roots: tuple[str, ...]
    edges: tuple[InferredEdge, ...]


@dataclass(frozen=True)
class Inference:
    trees: tuple[InferredTree, ...]
    skipped: tuple[tuple[str, str], ...] = ()   # (member, why it was not read)

    @property
    def parents(self) -> dict[str, str | None]:
        out: dict[str, str | None] = {}
        for tree in self.trees:
            out.update({m: None for m in tree.members})
            out.update({e.child: e.parent for e in tree.edges})
        return out

    @property
    def lineage(self) -> Lineage:
        return Lineage(self.parents)

    def edge(self, child: str) -> InferredEdge | None:
        return next((e for t in self.trees for e in t.edges if e.child == child), None)

    def tree_of(self, name: str) -> InferredTree | None:
        return next((t for t in self.trees if name in t.members), None)


def infer_family(family: Family, *, root: str | None = None, n_boot: int = 200,
                 seed: int = 0, strict: bool = True) -> Inference:
    """The lineage the weights of ``family``'s members show (``root`` fixes a tree's root).
    ``strict``: a member whose weights cannot be read is an error naming the file; else it is
    skipped with the reason (the check ``family show`` and ``run`` make)."""
    return infer_members([(m.name, m.path, m.kind) for m in family.models], root=root,
                         n_boot=n_boot, seed=seed, strict=strict)


def infer_members(members: Sequence[tuple[str, Path, ModelKind]], *, root: str | None = None,
                  n_boot: int = 200, seed: int = 0, strict: bool = True) -> Inference:
    if root is not None and root not in {m[0] for m in members}:
        raise AuditError(root, f"--root names no member (members: "
                         f"{', '.join(sorted(m[0] for m in members))})")
    full: list[FullWeights] = []
    loras: list[LoraWeights] = []
    skipped: list[tuple[str, str]] = []
    for name, path, kind in members:
        if kind not in ("full", "lora"):
            skipped.append((name, f"{kind} weights are not compared (only safetensors full "
                                  "models and LoRA adapters)"))
            continue
        try:
            weights = read_member(name, path, kind)
        except AuditError as err:
            if strict:
                raise
            skipped.append((name, str(err)))
            continue
        if isinstance(weights, FullWeights):
            full.append(weights)
        else:
            loras.append(weights)
    trees: list[InferredTree] = []
    placed: set[str] = set()
    for group in group_full(full):     # an adapter joins the first group whose matrices it fits
        mine = [x for x in loras if x.name not in placed and fits(x, group[0])]
        placed.update(x.name for x in mine)
        trees.append(_group_tree(group, mine, root, n_boot, seed))
    for lora in loras:
        if not any(lora.name in t.members for t in trees):
            trees.append(InferredTree("adapter with no matching full model", (lora.name,),
                                      (lora.name,), ()))
    return Inference(tuple(trees), tuple(skipped))


def group_full(full: Sequence[FullWeights]) -> list[list[FullWeights]]:
    """Full models by architecture and tokenizer vocabulary; a model without tokenizer.json
    joins the largest group of its architecture (its vocabulary is unknown, not different)."""
    groups: dict[tuple[str, str | None], list[FullWeights]] = {}
    for weights in sorted(full, key=lambda w: w.vocab is None):
        known = [k for k in groups if k[0] == weights.arch]
        key = (weights.arch, weights.vocab) if weights.vocab is not None or not known \
            else max(known, key=lambda k: len(groups[k]))
        groups.setdefault(key, []).append(weights)
    return list(groups.values())


def _group_tree(full: list[FullWeights], loras: list[LoraWeights], root: str | None,
                n_boot: int, seed: int) -> InferredTree:
    stats = full_stats(full)
    names = [w.name for w in full]
    fixed = names.index(root) if root in names else None
    parents = full_tree(stats.distance, stats.kurtosis, fixed)
    support = bootstrap_full(stats.distance, stats.kurtosis, parents, n_boot=n_boot, seed=seed,
                             fixed_root=fixed)
    mean = stats.distance.mean(0)
    edges = [InferredEdge(names[p], names[c], float(mean[p, c]), float(support[c]),
                           "weights")
             for c, p in enumerate(parents) if p is not None]
    roots = [names[i] for i, p in enumerate(parents) if p is None]
    full_edges = [(p, c) for c, p in enumerate(parents) if p is not None]
    for lora in loras:
        edges.append(_adapter_edge(lora, full, full_edges, parents, n_boot, seed))
    members = tuple(names + [x.name for x in loras])
    vocab = next((w.vocab for w in full if w.vocab), None)
    label = full[0].arch_label + (f", tokenizer {vocab[:8]}" if vocab else "")
    return InferredTree(label, members, tuple(roots), tuple(edges))


def _adapter_edge(lora: LoraWeights, full: list[FullWeights], full_edges: list[tuple[int, int]],
                  parents: list[int | None], n_boot: int, seed: int) -> InferredEdge:
    stats = adapter_stats(lora, full, full_edges)
    roots = [i for i, p in enumerate(parents) if p is None]
    parent = place_adapter(stats.cosine, full_edges, roots)
    support = bootstrap_adapter(stats.cosine, full_edges, roots, parent, n_boot=n_boot,
                                seed=seed)
    distance = float(np.mean(stats.relative_norm[parent]))
    return InferredEdge(full[parent].name, lora.name, distance, float(support), "adapter delta")


@dataclass(frozen=True)
class LineageCheck:
    """The declared lineage checked against the weights."""

    inference: Inference
    warnings: tuple[str, ...]


def check_lineage(family: Family, *, n_boot: int = 200, seed: int = 0,
                  cache: Path | None = None) -> LineageCheck:
    """Infer the lineage (unreadable members skipped) and warn where the declared one differs;
    a member the inference skipped is said so once. ``cache``: a directory where the inference
    is kept by what it depends on (:mod:`auditkit.family.infer_cache`)."""
    def compute() -> Inference:
        return infer_family(family, n_boot=n_boot, seed=seed, strict=False)

    if cache is None:
        inference = compute()
    else:
        from auditkit.family.infer_cache import cache_key, cached  # it imports this module
        key = cache_key(family, root=None, n_boot=n_boot, seed=seed, strict=False)
        inference = cached(cache, key, compute)
    skipped = tuple(f"lineage from weights: {m} skipped ({why})" for m, why in inference.skipped)
    return LineageCheck(inference, disagreements(family, inference) + skipped)


def check_entry(check: LineageCheck, *, used: bool) -> LineageCheckEntry:
    """The check as the run manifest records it."""
    edges = tuple(InferredEdgeEntry(parent=e.parent, child=e.child,
                                    distance=round(e.distance, 6),
                                    confidence=round(e.confidence, 3), evidence=e.evidence)
                  for t in check.inference.trees for e in t.edges)
    roots = tuple(r for t in check.inference.trees for r in t.roots)
    return LineageCheckEntry(edges=edges, roots=roots, warnings=check.warnings, used=used)


def disagreements(family: Family, inference: Inference) -> tuple[str, ...]:
    """One warning per member whose declared parent is not the one its weights show; an edge
    the weights hold the other way round is one warning about its direction."""
    inferred, declared = inference.parents, family.parents()
    out = []
    for node in family.models:
        parent = inferred.get(node.name, node.parent)
        if node.name not in inferred or node.parent == parent:
            continue
        if parent is not None and declared.get(parent) == node.name:
            out.append(_reversed(node.name, parent, inference))
        elif not (node.parent is not None and inferred.get(node.parent) == node.name):
            out.append(_disagreement(node, parent, inference))
    return tuple(out)


def _reversed(name: str, child: str, inference: Inference) -> str:
    edge = inference.edge(name)
    conf = f" (confidence {edge.confidence:.2f})" if edge else ""
    return (f"{child} declares {name} as its parent; their weights are adjacent, but the "
            f"inferred direction puts {child} above {name}{conf} (kurtosis is a weak cue; "
            "`family infer --root` fixes the root)")


def _disagreement(node: ModelNode, parent: str | None, inference: Inference) -> str:
    edge = inference.edge(node.name)
    conf = f" (confidence {edge.confidence:.2f})" if edge else ""
    declared = (f"{node.name} declares {node.parent} ({node.parent_source})"
                if node.parent is not None else f"{node.name} declares no parent")
    if parent is not None:
        return f"{declared}, but its weights are closest to {parent}{conf}"
    tree = inference.tree_of(node.name)
    if node.parent is not None and tree is not None and node.parent not in tree.members:
        return (f"{declared}, but their weights are not comparable (a different architecture "
                "or tokenizer, or a skipped member)")
    return f"{declared}, but its weights make it the root of its tree"


def inference_to_dict(inference: Inference) -> dict[str, Any]:
    """The inference as plain JSON-ready data."""
    return {
        "trees": [{"architecture": t.architecture, "members": list(t.members),
                   "roots": list(t.roots),
                   "edges": [{"parent": e.parent, "child": e.child,
                              "distance": round(e.distance, 6),
                              "confidence": round(e.confidence, 3), "evidence": e.evidence}
                             for e in t.edges]}
                  for t in inference.trees],
        "parents": inference.parents,
        "skipped": [{"model": m, "reason": r} for m, r in inference.skipped],
    }
