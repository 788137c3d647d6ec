"""Model families: discover the models under a directory, their lineage and fingerprints.

No torch here: weights are only hashed and their headers read. Loading is
:mod:`auditkit.backend.load`. The format is in docs/family-format.md.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

from auditkit.errors import AuditError
from auditkit.family.discover import TOKENIZER_MARKERS, Candidate, classify, discover
from auditkit.family.external import external_candidates
from auditkit.family.fingerprint import FileCache, files_hashed, model_fingerprint
from auditkit.family.hub import hub_lookup, hub_snapshot
from auditkit.family.lineage import Link, Member, lineage_of, name_members, resolve_links
from auditkit.family.manifest import MANIFEST_NAME, FamilyManifest, load_family_manifest
from auditkit.family.stamp import model_stamp
from auditkit.lineage import Lineage
from auditkit.types import Family, ModelNode, Stamp

__all__ = ["load_family", "family_to_dict", "load_family_manifest", "files_hashed",
           "external_base", "base_directory", "MANIFEST_NAME", "NO_TOKENIZER"]

NO_TOKENIZER = "no tokenizer in this model or its ancestors; it cannot be loaded"


def load_family(root: Path, *, allow_pickle: bool = False,
                weight_parents: Mapping[str, str] | None = None) -> Family:
    """Discover the family under ``root``: members in topological order, fingerprints, warnings.
    ``weight_parents``: parents inferred from the weights (auditkit.family.infer), taken for
    the members that declare none (parent source ``weights``)."""
    root = _check_root(Path(root))
    manifest_path = root / MANIFEST_NAME
    manifest = load_family_manifest(manifest_path) if manifest_path.exists() else None
    cache = FileCache()
    extra = tuple(e.path for e in manifest.entries if not e.external) if manifest else ()
    cands = discover(root, cache=cache, allow_pickle=allow_pickle, extra=extra)
    cands += external_candidates(manifest, root)
    if not cands:
        raise AuditError(root, "no models found in this directory: expected model directories "
                         "(with config.json or adapter_config.json) or .gguf files below it")
    members = {m.name: m for m in name_members(cands, manifest)}
    links = resolve_links(list(members.values()), manifest, root)
    inferred = dict(weight_parents or {})
    links = {n: Link(inferred[n], "weights") if link.source == "none" and n in inferred
             else link for n, link in links.items()}
    lineage = lineage_of(links, where=manifest_path if manifest else root)
    nodes: dict[str, ModelNode] = {}
    for name in lineage.topological():
        parent = links[name].parent
        nodes[name] = _fingerprinted(members[name], links[name],
                                     nodes[parent] if parent else None, root, cache,
                                     allow_pickle)
    cache.save()
    models = tuple(_with_tokenizer_warning(nodes[n], lineage, nodes, members)
                   for n in lineage.topological())
    return Family(root=root, name=manifest.name if manifest and manifest.name else root.name,
                  models=models, warnings=_family_warnings(models, manifest))


def _check_root(root: Path) -> Path:
    if not root.exists():
        raise AuditError(root, "no such family directory")
    if not root.is_dir():
        raise AuditError(root, "not a directory (expected a family directory of models)")
    return root.absolute()


def _fingerprinted(member: Member, link: Link, parent: ModelNode | None, root: Path,
                   cache: FileCache, allow_pickle: bool) -> ModelNode:
    """The member's node, its fingerprint and the stamp of the files it was computed from,
    taken before hashing and the same after it (else the model is still being written)."""
    cand = member.cand
    base = _external_base(cand, root, cache, allow_pickle) if link.parent is None else None
    base_dir = base.path if base else None
    before = _stamp(cand.path, base_dir)
    base_fp = _fingerprint(base, None, cache) if base else None
    fingerprint = _fingerprint(cand, parent.fingerprint if parent else base_fp, cache)
    if _stamp(cand.path, base_dir) != before:
        raise AuditError(cand.path, "changed while it was being fingerprinted (a save still in "
                         "progress?); run again once the model is stable")
    return _node(member, link, fingerprint, root, base_dir, before)


def _stamp(path: Path, base_path: Path | None) -> Stamp:
    try:
        return model_stamp(path, base_path)
    except OSError as exc:
        raise AuditError(getattr(exc, "filename", None) or path,
                         f"cannot read the model's files: {exc.strerror or exc}") from None


def _external_base(cand: Candidate, root: Path, cache: FileCache,
                   allow_pickle: bool) -> Candidate | None:
    """A root adapter's base outside the family, when it names a local full model directory
    (the adapter's fingerprint covers the base's, wherever the base is)."""
    path = base_directory(cand.base_ref, cand.path, root) if cand.kind == "lora" else None
    if path is None:
        return None
    base = classify(path.absolute(), root, cache=cache, allow_pickle=allow_pickle)
    return base if base is not None and base.kind == "full" else None


def _fingerprint(cand: Candidate, parent_fp: str | None, cache: FileCache) -> str:
    try:
        # An adapter is only defined together with its base, so it covers the base's fingerprint.
        return model_fingerprint(cand.files, cache=cache,
                                 parent=parent_fp if cand.kind == "lora" else None)
    except OSError as exc:
        raise AuditError(getattr(exc, "filename", None) or cand.path,
                         f"cannot read the file: {exc.strerror or exc}") from None


def _node(member: Member, link: Link, fingerprint: str, root: Path, base_path: Path | None,
          stamp: Stamp) -> ModelNode:
    cand, entry = member.cand, member.entry
    warnings = list(cand.warnings) + list(link.warnings)
    if cand.kind == "lora" and link.parent is None:
        warnings.append(_orphan_adapter_warning(cand, root, base_path))
    return ModelNode(
        name=member.name, path=cand.path, kind=cand.kind, parent=link.parent,
        parent_source=link.source, fingerprint=fingerprint, n_params=cand.n_params,
        display_name=entry.display_name if entry else "", tags=entry.tags if entry else (),
        intent=entry.intent if entry else "", base_ref=cand.base_ref, warnings=tuple(warnings),
        base_path=base_path, hub=hub_label(entry.hub, entry.revision) if entry else "",
        stamp=stamp,
    )


def hub_label(hub: str | None, revision: str | None) -> str:
    """``org/name@revision`` (``org/name`` for the default revision); "" without a hub id."""
    if not hub:
        return ""
    return f"{hub}@{revision}" if revision else hub


def base_directory(base_ref: str | None, model_path: Path, root: Path) -> Path | None:
    """The local directory ``base_ref`` names (absolute, or relative to the model or the
    family directory), else the snapshot of the hub id it names in the local Hugging Face
    cache, if any."""
    if base_ref is None:
        return None
    ref = Path(base_ref)
    for path in [ref] if ref.is_absolute() else [model_path / ref, root / ref]:
        if path.is_dir():
            return path
    return hub_snapshot(base_ref)


def external_base(node: ModelNode, root: Path) -> Path | None:
    """The local directory an adapter outside the family lineage names as its base, if any."""
    return node.base_path or base_directory(node.base_ref, node.path, root)


def _orphan_adapter_warning(cand: Candidate, root: Path, base_path: Path | None) -> str:
    if cand.base_ref is None:
        return ("adapter has no base: adapter_config.json has no base_model_name_or_path and "
                "family.yaml gives no parent; it cannot be loaded")
    if base_path is not None:
        return (f"base {cand.base_ref!r} is not a member of the family; it is loaded from "
                f"{base_path}, whose files its fingerprint covers")
    if base_directory(cand.base_ref, cand.path, root) is not None:
        return (f"base {cand.base_ref!r} is a local directory but not a full model (config.json "
                "and weights); this adapter cannot be loaded")
    return (f"base {cand.base_ref!r} is not a member of the family nor a local directory; "
            "this adapter cannot be loaded (auditkit never downloads models)"
            + hub_lookup(cand.base_ref))


def _with_tokenizer_warning(node: ModelNode, lineage: Lineage, nodes: dict[str, ModelNode],
                            members: dict[str, Member]) -> ModelNode:
    """Add a warning when neither the model nor an ancestor has a tokenizer."""
    chain = [node.name, *lineage.ancestors(node.name)]
    if any(members[name].cand.has_tokenizer for name in chain):
        return node
    base = nodes[chain[-1]].base_path
    if base is not None and any((base / m).exists() for m in TOKENIZER_MARKERS):
        return node
    warning = NO_TOKENIZER
    return ModelNode(**{**_fields(node), "warnings": node.warnings + (warning,)})


def _fields(node: ModelNode) -> dict[str, Any]:
    return {f: getattr(node, f) for f in node.__dataclass_fields__}


def _family_warnings(models: tuple[ModelNode, ...], manifest: FamilyManifest | None) -> tuple[str, ...]:
    roots = [m for m in models if m.parent is None]
    if len(roots) <= 1:
        return ()
    unknown = [m.name for m in roots if m.parent_source == "none"]
    hint = (f"; no lineage evidence for {', '.join(unknown)}: give their parents in "
            f"{MANIFEST_NAME}" if unknown else "")
    return (f"the family has {len(roots)} roots ({', '.join(m.name for m in roots)}){hint}",)


def family_to_dict(family: Family) -> dict[str, Any]:
    """Everything ``family show`` prints, as plain JSON-ready data."""
    models = []
    for node in family.models:
        data = asdict(node)
        del data["stamp"]
        data.update(path=str(node.path), tags=list(node.tags), warnings=list(node.warnings),
                    base_path=str(node.base_path) if node.base_path else None,
                    short_fingerprint=node.short_fingerprint, depth=family.depth(node.name))
        models.append(data)
    return {"name": family.name, "root": str(family.root), "models": models,
            "warnings": list(family.warnings)}
