"""``auditkit family``: inspect a family of models (lineage, kinds, sizes, fingerprints)."""
from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.markup import escape
from rich.tree import Tree

from auditkit.cli._common import console, handles_errors
from auditkit.cli.family_infer import CHECK_LINEAGE_OPTION, check_to_dict, lineage_check
from auditkit.family import family_to_dict, load_family
from auditkit.types import Family, ModelNode

app = typer.Typer(help="Inspect a family of models: lineage, kinds, sizes, fingerprints.",
                  no_args_is_help=True)


@app.command("show")
@handles_errors
def show(
    directory: Path = typer.Argument(..., help="The family directory (models below it, an "
                                               "optional family.yaml at its root)."),
    as_json: bool = typer.Option(False, "--json", help="Print the family as JSON on stdout."),
    allow_pickle: bool = typer.Option(False, "--allow-pickle",
                                      help="Accept pickle weight files (*.bin, *.pt), which can "
                                           "run code when loaded. Only for files you trust."),
    check_lineage: bool = CHECK_LINEAGE_OPTION,
) -> None:
    """Discover every model under DIRECTORY and print the lineage tree."""
    family = load_family(directory, allow_pickle=allow_pickle)
    check = lineage_check(family) if check_lineage else None
    if as_json:
        extra = {"lineage_check": check_to_dict(check)} if check else {}
        typer.echo(json.dumps({**family_to_dict(family), **extra}, indent=2))
        return
    console.print(family_tree(family))
    for warning in family.warnings + (check.warnings if check else ()):
        console.print(f"[yellow]warning:[/] {escape(warning)}")


def family_tree(family: Family) -> Tree:
    """A rich tree: one line per model under its parent, warnings in yellow below it."""
    tree = Tree(f"[bold]{escape(family.name)}[/]  [dim]{escape(str(family.root))}[/]")
    branches: dict[str, Tree] = {}
    for node in family.models:  # topological: a parent's branch exists before its children
        parent = branches[node.parent] if node.parent is not None else tree
        branches[node.name] = branch = parent.add(_label(node))
        for warning in node.warnings:
            branch.add(f"[yellow]! {escape(warning)}[/]")
    return tree


def _label(node: ModelNode) -> str:
    parts = [f"[bold]{escape(node.name)}[/]"]
    if node.display_name:
        parts.append(f"({escape(node.display_name)})")
    parts += [f"[cyan]{node.kind}[/]", human_count(node.n_params)]
    if node.parent is not None:
        parts.append(f"<- {escape(node.parent)} [dim]({node.parent_source})[/]")
    if node.hub:
        parts.append(f"[dim]hub {escape(node.hub)}[/]")
    parts.append(f"[dim]{node.short_fingerprint}[/]")
    if node.intent:
        parts.append(f"[italic]{escape(node.intent)}[/]")
    if node.tags:
        parts.append(f"[dim]\\[{escape(', '.join(node.tags))}][/]")
    return "  ".join(parts)


def human_count(n: int | None) -> str:
    """134515008 -> '134.5M'; None (pickle weights, not read) -> '?'."""
    if n is None:
        return "?"
    for unit, size in (("T", 1e12), ("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if n >= size:
            return f"{n / size:.1f}{unit}"
    return str(n)


# `family infer` lives in its own module (auditkit/cli/family_infer.py).
from auditkit.cli.family_infer import infer as _infer  # noqa: E402

app.command("infer")(_infer)

# `family build` and `family spec-loras` live in auditkit/cli/family_build.py.
from auditkit.cli.family_build import build as _build  # noqa: E402
from auditkit.cli.family_build import spec_loras as _spec_loras  # noqa: E402

app.command("build")(_build)
app.command("spec-loras")(_spec_loras)
