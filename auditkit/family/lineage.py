"""Names and parents of the models found on disk.

Authority, highest first: family.yaml; an adapter's ``base_model_name_or_path``; a config's
``_name_or_path``. A reference names a member by its name, by its path relative to the family
directory, or by a path (absolute, or relative to the family or the model) that resolves to it.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from auditkit.errors import AuditError, Problem, ValidationError
from auditkit.family.discover import Candidate
from auditkit.family.manifest import FamilyManifest, ManifestEntry
from auditkit.lineage import Lineage, LineageError
from auditkit.types import ParentSource


@dataclass(frozen=True)
class Member:
    name: str
    cand: Candidate
    entry: ManifestEntry | None = None


@dataclass(frozen=True)
class Link:
    """A member's parent and the evidence for it."""

    parent: str | None
    source: ParentSource
    warnings: tuple[str, ...] = ()


def name_members(cands: list[Candidate], manifest: FamilyManifest | None) -> list[Member]:
    """Members named by the manifest key when listed there, else by their relative path."""
    by_real = {os.path.realpath(c.path): c for c in cands}
    problems: list[Problem] = []
    members, listed = [], set()
    for entry in manifest.entries if manifest else ():
        cand = by_real.get(os.path.realpath(entry.path))
        problem = _entry_problem(entry, cand)
        if problem:
            problems.append(Problem(str(manifest.path), problem,  # type: ignore[union-attr]
                                    field=f"models.{entry.name}", line=entry.line))
            continue
        members.append(Member(entry.name, cand, entry))  # type: ignore[arg-type]
        listed.add(os.path.realpath(entry.path))
    # A family directory that is itself a model gets the directory's name, not ".".
    members += [Member(c.path.name if c.rel == "." else c.rel, c)
                for c in cands if os.path.realpath(c.path) not in listed]
    problems += _duplicate_names(members)
    if problems:
        raise ValidationError(problems)
    return members


def _entry_problem(entry: ManifestEntry, cand: Candidate | None) -> str | None:
    if cand is None:
        return (f"path {entry.rel_path!r} holds no model (expected a directory with config.json "
                "or adapter_config.json, or a .gguf file)")
    if entry.kind is not None and entry.kind != cand.kind:
        return f"kind is {entry.kind!r} but {entry.rel_path!r} holds a {cand.kind} model"
    return None


def _duplicate_names(members: list[Member]) -> list[Problem]:
    seen: dict[str, Member] = {}
    problems = []
    for member in members:
        if member.name in seen:
            other = seen[member.name].cand.path
            problems.append(Problem(str(member.cand.path), f"model name {member.name!r} is also "
                                    f"used by {other}; rename one in family.yaml"))
        seen.setdefault(member.name, member)
    return problems


def match_ref(ref: str, members: list[Member], *, root: Path, origin: Path) -> str | None:
    """The member that ``ref`` names (by name, hub id, relative path or resolved path), else
    None."""
    for member in members:
        if member.name == ref:
            return member.name
    by_hub = [m.name for m in members if m.entry is not None and m.entry.hub == ref]
    if len(by_hub) == 1:      # a hub id names the member resolved from it (one revision only)
        return by_hub[0]
    norm = PurePosixPath(os.path.normpath(ref.replace("\\", "/"))).as_posix()
    for member in members:
        if norm in (member.cand.rel, member.entry.rel_path if member.entry else None):
            return member.name
    reals = {os.path.realpath(m.cand.path): m.name for m in members}
    bases = [Path(ref)] if os.path.isabs(ref) else [root / ref, origin / ref]
    for base in bases:
        if base.exists() and os.path.realpath(base) in reals:
            return reals[os.path.realpath(base)]
    return None


def resolve_links(members: list[Member], manifest: FamilyManifest | None,
                  root: Path) -> dict[str, Link]:
    """Each member's parent by the order of authority; a manifest parent that is no member fails."""
    names = [m.name for m in members]
    links, problems = {}, []
    for member in members:
        entry = member.entry
        if entry is not None and entry.has_parent and entry.parent is not None \
                and entry.parent not in names:
            problems.append(Problem(str(manifest.path),  # type: ignore[union-attr]
                                    f"parent {entry.parent!r} is not a member of the family "
                                    f"(members: {', '.join(sorted(names))})",
                                    field=f"models.{member.name}.parent", line=entry.parent_line))
            continue
        links[member.name] = _link(member, members, root)
    if problems:
        raise ValidationError(problems)
    return links


def _link(member: Member, members: list[Member], root: Path) -> Link:
    cand, entry = member.cand, member.entry
    origin = cand.path.parent if cand.kind == "gguf" else cand.path
    base = match_ref(cand.base_ref, members, root=root, origin=origin) if cand.base_ref else None
    if entry is not None and entry.has_parent:
        warnings: tuple[str, ...] = ()
        if cand.kind == "lora" and base is not None and base != entry.parent:
            warnings = (f"adapter_config.json names base {cand.base_ref!r} (member {base!r}) but "
                        f"family.yaml sets parent {entry.parent!r}; family.yaml wins",)
        return Link(entry.parent, "manifest", warnings)
    if base is not None:
        return Link(base, "adapter")
    ref = cand.name_or_path
    config = match_ref(ref, members, root=root, origin=origin) if ref else None
    if config is not None and config != member.name:
        return Link(config, "config")
    return Link(None, "none")


def lineage_of(links: dict[str, Link], *, where: Path) -> Lineage:
    """The members' lineage (names sorted); a cycle is an error naming each link's source."""
    try:
        return Lineage({name: links[name].parent for name in sorted(links)})
    except LineageError as err:
        if not err.cycle:
            raise
        steps = " -> ".join(f"{n} ({links[n].source})" for n in err.cycle)
        raise AuditError(where, f"lineage cycle: {steps} -> {err.cycle[0]}; each model's parent "
                         "(source in brackets) leads back to it") from None
