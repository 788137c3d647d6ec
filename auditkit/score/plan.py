"""Planning a family's scoring: which models are loaded together.

A full (or GGUF) model is loaded once together with all of its direct LoRA children, which are
then scored in mixed-adapter batches. A LoRA adapter whose parent is itself an adapter is
loaded on its own (the loader merges the chain), and so is an adapter whose base lies outside
the family (a root of the lineage: the loader finds its base by ``base_model_name_or_path``).
Groups follow the family's topological order.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from auditkit.types import Family


@dataclass(frozen=True)
class ModelGroup:
    """Members scored with one loaded model: ``base`` plus LoRA ``adapters``.

    ``adapters`` pairs each adapter member with the key it is loaded under (PEFT adapter names
    must be plain identifiers, member names need not be). ``scored`` are the members whose
    results are wanted; the base may be loaded only to carry its adapters.
    """

    base: str
    adapters: tuple[tuple[str, str], ...]
    scored: tuple[str, ...]

    @property
    def label(self) -> str:
        return self.base if not self.adapters else f"{self.base} + {len(self.adapters)} adapters"

    def adapter_key(self, member: str) -> str | None:
        """The adapter a member's requests run on; None for the base itself."""
        return None if member == self.base else dict(self.adapters)[member]


def plan_groups(family: Family, models: Sequence[str] | None = None) -> list[ModelGroup]:
    """Groups covering ``models`` (default: every member), in topological order."""
    wanted = set(family.names if models is None else models)
    groups = []
    for node in family.models:
        parent_kind = family.get(node.parent).kind if node.parent else None
        if node.kind == "lora" and node.parent is not None and parent_kind != "lora":
            continue  # served as an adapter in its parent's group
        children = [c.name for c in family.children(node.name)
                    if c.kind == "lora" and c.name in wanted]
        if node.kind == "lora":
            children = []  # adapters on an adapter get their own (merged) load
        adapters = tuple((name, f"adapter_{i}") for i, name in enumerate(children))
        scored = tuple(n for n in (node.name, *children) if n in wanted)
        if scored:
            groups.append(ModelGroup(node.name, adapters, scored))
    return groups
