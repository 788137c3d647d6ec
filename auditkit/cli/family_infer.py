"""``auditkit family infer``: the lineage the weights show, beside the declared one."""
from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.markup import escape
from rich.tree import Tree

from auditkit.cli._common import console, handles_errors
from auditkit.family import load_family
from auditkit.family.infer import (
    Inference,
    LineageCheck,
    check_lineage,
    disagreements,
    infer_family,
    inference_to_dict,
)
from auditkit.family.infer_cache import default_dir
from auditkit.types import Family

CHECK_LINEAGE_OPTION = typer.Option(
    True, "--check-lineage/--no-check-lineage", help="Infer the lineage from the weights "
    "(reads every weight file once: about 30 s for the demo family on 2 cores; the answer is "
    "cached until a member's files change) and warn where "
    "the declared parents disagree with it (docs/family-format.md).")


def lineage_check(family: Family) -> LineageCheck:
    """The check ``family show`` and ``run`` make (unreadable members skipped, with why)."""
    with console.status("Inferring the lineage from the weights..."):
        return check_lineage(family, cache=default_dir())


def check_to_dict(check: LineageCheck) -> dict[str, object]:
    return {**inference_to_dict(check.inference), "warnings": list(check.warnings)}


@handles_errors
def infer(
    directory: Path = typer.Argument(..., help="The family directory."),
    as_json: bool = typer.Option(False, "--json", help="Print the inferred trees as JSON."),
    root: str | None = typer.Option(None, "--root", help="Hang the tree holding this member "
                                    "from it (else the direction comes from kurtosis)."),
    n_boot: int = typer.Option(200, "--bootstrap", min=1, help="Bootstrap resamples of the "
                               "matrices behind each edge's confidence."),
    seed: int = typer.Option(0, "--seed", help="Seed of the bootstrap."),
) -> None:
    """Infer the lineage from the weights (streamed safetensors; LoRA adapters by their
    B @ A deltas) and show where the declared lineage disagrees with it."""
    family = load_family(directory)
    inference = infer_family(family, root=root, n_boot=n_boot, seed=seed)
    warnings = disagreements(family, inference)
    if as_json:
        typer.echo(json.dumps({**inference_to_dict(inference), "warnings": list(warnings)},
                              indent=2))
        return
    console.print(inference_tree(family, inference))
    for warning in warnings:
        console.print(f"[yellow]warning:[/] {escape(warning)}")


def inference_tree(family: Family, inference: Inference) -> Tree:
    """A rich tree per architecture: each member under its inferred parent, with distance,
    confidence and (in yellow) the declared parent where it differs."""
    top = Tree(f"[bold]{escape(family.name)}[/]  [dim]lineage from weights[/]")
    declared = family.parents()
    for tree in inference.trees:
        branch = top.add(f"[cyan]{escape(tree.architecture)}[/]")
        children: dict[str | None, list[str]] = {}
        for edge in tree.edges:
            children.setdefault(edge.parent, []).append(edge.child)
        stack = [(branch, r) for r in reversed(tree.roots)]
        while stack:
            parent_branch, name = stack.pop()
            node = parent_branch.add(_label(name, inference, declared))
            stack += [(node, c) for c in reversed(children.get(name, []))]
    for name, reason in inference.skipped:
        top.add(f"[dim]{escape(name)}: skipped ({escape(reason)})[/]")
    return top


def _label(name: str, inference: Inference, declared: dict[str, str | None]) -> str:
    edge = inference.edge(name)
    parts = [f"[bold]{escape(name)}[/]"]
    if edge is not None:
        parts.append(f"distance {edge.distance:.4f}  confidence {edge.confidence:.2f}  "
                     f"[dim]({edge.evidence})[/]")
    inferred = edge.parent if edge else None
    if name in declared and declared[name] != inferred:
        parts.append(f"[yellow]declared parent: {escape(str(declared[name]))}[/]")
    return "  ".join(parts)
