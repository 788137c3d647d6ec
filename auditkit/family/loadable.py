"""Whether members can be loaded at all, checked from their files before anything is scored.

An adapter needs its base (a member, or a local full model directory outside the family); every
model needs a tokenizer (its own, an ancestor's, its external base's; a GGUF file carries one).
A run checks the members it scores (and their ancestors) here, so that a family with one broken
member is refused before the first model is loaded rather than after the others were scored.
"""
from __future__ import annotations

from collections.abc import Iterable

from auditkit.errors import Problem, ValidationError
from auditkit.family.discover import ADAPTER_CONFIG, TOKENIZER_MARKERS
from auditkit.family.hub import hub_lookup
from auditkit.types import Family, ModelNode


def check_loadable(family: Family, names: Iterable[str]) -> None:
    """Raise a ValidationError listing every member of ``names`` (or model loaded to make one:
    an adapter's base) that cannot be loaded: an adapter without a base, a model without a
    tokenizer."""
    problems: list[Problem] = []
    for name in dict.fromkeys(m for n in names for m in _loaded_with(family, n)):
        node = family.get(name)
        if node.kind == "external":      # served from its outputs file, never loaded
            problems += _on_external_problem(family, name, names)
            continue
        problems += _base_problem(node)
        problems += _tokenizer_problem(family, node)
    if problems:
        raise ValidationError(problems)


def _loaded_with(family: Family, name: str) -> list[str]:
    """``name`` and the models loaded to make it: an adapter's base, up the chain of adapters."""
    node, chain = family.get(name), [name]
    while node.kind == "lora" and node.parent is not None:
        chain.append(node.parent)
        node = family.get(node.parent)
    return chain


def _on_external_problem(family: Family, name: str, names: Iterable[str]) -> list[Problem]:
    """An adapter whose base is an external member cannot be loaded: there are no weights."""
    adapters = [n for n in names if n != name and name in _loaded_with(family, n)]
    return [Problem(str(family.get(a).path), f"adapter {a!r} cannot be loaded: its base "
                    f"{name!r} is external (known only by its outputs, no weights)")
            for a in adapters]


def _base_problem(node: ModelNode) -> list[Problem]:
    if node.kind != "lora" or node.parent is not None or node.base_path is not None:
        return []
    if node.base_ref is None:
        what = "names no base (no base_model_name_or_path) and family.yaml gives no parent"
    else:
        what = (f"names base {node.base_ref!r}, which is neither a member of the family nor a "
                "local full model directory nor in the local Hugging Face cache (auditkit "
                f"never downloads models){hub_lookup(node.base_ref)}")
    return [Problem(str(node.path / ADAPTER_CONFIG), f"adapter {node.name!r} cannot be loaded: "
                    f"it {what}; give its parent in family.yaml, or leave it out with --model",
                    field="base_model_name_or_path")]


def _tokenizer_problem(family: Family, node: ModelNode) -> list[Problem]:
    searched = []
    for model in [node, *(family.get(a) for a in family.ancestors(node.name))]:
        if model.kind == "gguf":
            return []                                   # a GGUF file carries its tokenizer
        searched += [model.path, *([model.base_path] if model.base_path else [])]
        if any((d / m).is_file() for d in searched for m in TOKENIZER_MARKERS):
            return []
    return [Problem(str(node.path), f"model {node.name!r} cannot be loaded: no tokenizer in "
                    f"{', '.join(str(d) for d in searched)}; expected one of "
                    f"{', '.join(TOKENIZER_MARKERS)} in the model or an ancestor")]
