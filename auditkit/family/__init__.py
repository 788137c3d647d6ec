"""Model families: discover the models under a directory, their lineage and fingerprints.

No torch here: weights are only hashed and their headers read. Loading is
:mod:`auditkit.backend.load`. The format is in docs/family-format.md.
"""
from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

from auditkit.errors import AuditError
from auditkit.family.discover import TOKENIZER_MARKERS, Candidate, discover
from auditkit.family.fingerprint import FileCache, files_hashed, model_fingerprint
from auditkit.family.lineage import Link, Member, lineage_of, name_members, resolve_links
from auditkit.family.manifest import MANIFEST_NAME, FamilyManifest, load_family_manifest
from auditkit.lineage import Lineage
from auditkit.types import Family, ModelNode

__all__ = ["load_family", "family_to_dict", "load_family_manifest", "files_hashed",
           "external_base", "MANIFEST_NAME"]


def load_family(root: Path, *, allow_pickle: bool = False) -> Family:
    """Discover the family under ``root``: members in topological order, fingerprints, warnings."""
    root = _check_root(Path(root))
    manifest_path = root / MANIFEST_NAME
    manifest = load_family_manifest(manifest_path) if manifest_path.exists() else None
    cache = FileCache()
    extra = tuple(e.path for e in manifest.entries) if manifest else ()
    cands = discover(root, cache=cache, allow_pickle=allow_pickle, extra=extra)
    members = {m.name: m for m in name_members(cands, manifest)}
    links = resolve_links(list(members.values()), manifest, root)
    lineage = lineage_of(links, where=manifest_path if manifest else root)
    nodes: dict[str, ModelNode] = {}
    for name in lineage.topological():
        parent = links[name].parent
        fp = _fingerprint(members[name].cand, nodes[parent].fingerprint if parent else None,
                          cache)
        nodes[name] = _node(members[name], links[name], fp, root)
    cache.save()
    models = tuple(_with_tokenizer_warning(nodes[n], lineage, nodes, members, root)
                   for n in lineage.topological())
    return Family(root=root, name=manifest.name if manifest and manifest.name else root.name,
                  models=models, warnings=_family_warnings(models, manifest))


def _check_root(root: Path) -> Path:
    if not root.exists():
        raise AuditError(root, "no such family directory")
    if not root.is_dir():
        raise AuditError(root, "not a directory (expected a family directory of models)")
    return root.absolute()


def _fingerprint(cand: Candidate, parent_fp: str | None, cache: FileCache) -> str:
    try:
        # An adapter is only defined together with its base, so it covers the base's fingerprint.
        return model_fingerprint(cand.files, cache=cache,
                                 parent=parent_fp if cand.kind == "lora" else None)
    except OSError as exc:
        raise AuditError(getattr(exc, "filename", None) or cand.path,
                         f"cannot read the file: {exc.strerror or exc}") from None


def _node(member: Member, link: Link, fingerprint: str, root: Path) -> ModelNode:
    cand, entry = member.cand, member.entry
    warnings = list(cand.warnings) + list(link.warnings)
    if cand.kind == "lora" and link.parent is None:
        warnings.append(_orphan_adapter_warning(cand, root))
    return ModelNode(
        name=member.name, path=cand.path, kind=cand.kind, parent=link.parent,
        parent_source=link.source, fingerprint=fingerprint, n_params=cand.n_params,
        display_name=entry.display_name if entry else "", tags=entry.tags if entry else (),
        intent=entry.intent if entry else "", base_ref=cand.base_ref, warnings=tuple(warnings),
    )


def external_base(node: ModelNode, root: Path) -> Path | None:
    """The local directory an adapter outside the family lineage names as its base, if any."""
    if node.base_ref is None:
        return None
    ref = Path(node.base_ref)
    for path in [ref] if ref.is_absolute() else [node.path / ref, root / ref]:
        if path.is_dir():
            return path
    return None


def _orphan_adapter_warning(cand: Candidate, root: Path) -> str:
    if cand.base_ref is None:
        return ("adapter has no base: adapter_config.json has no base_model_name_or_path and "
                "family.yaml gives no parent; it cannot be loaded")
    node_like = ModelNode(name="", path=cand.path, kind="lora", parent=None, parent_source="none",
                          fingerprint="", base_ref=cand.base_ref)
    if external_base(node_like, root) is not None:
        return f"base {cand.base_ref!r} is not a member of the family; it is loaded from that path"
    return (f"base {cand.base_ref!r} is not a member of the family nor a local directory; "
            "this adapter cannot be loaded (auditkit never downloads models)")


def _with_tokenizer_warning(node: ModelNode, lineage: Lineage, nodes: dict[str, ModelNode],
                            members: dict[str, Member], root: Path) -> ModelNode:
    """Add a warning when neither the model nor an ancestor has a tokenizer."""
    chain = [node.name, *lineage.ancestors(node.name)]
    if any(members[name].cand.has_tokenizer for name in chain):
        return node
    last = nodes[chain[-1]]
    base = external_base(last, root) if last.kind == "lora" else None
    if base is not None and any((base / m).exists() for m in TOKENIZER_MARKERS):
        return node
    warning = "no tokenizer in this model or its ancestors; it cannot be loaded"
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
        data.update(path=str(node.path), tags=list(node.tags), warnings=list(node.warnings),
                    short_fingerprint=node.short_fingerprint, depth=family.depth(node.name))
        models.append(data)
    return {"name": family.name, "root": str(family.root), "models": models,
            "warnings": list(family.warnings)}
