"""``auditkit prompts export``: the exact prompts of a run, per member and item, to run elsewhere."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.markup import escape

from auditkit.cli._common import TRUST_REMOTE_CODE_OPTION, console, handles_errors, selection_of
from auditkit.errors import AuditError

if TYPE_CHECKING:  # torch loads only when a member's tokenizer is needed
    from auditkit.backend.prompts import Renderer

app = typer.Typer(help="The prompts of a run, written out to run the models elsewhere.",
                  no_args_is_help=True)


@app.command("export")
@handles_errors
def export(
    family: Path = typer.Option(..., "--family", "-f", help="The family directory."),
    out: Path = typer.Option(..., "--out", "-o", help="The JSONL file to write."),
    model: list[str] | None = typer.Option(None, "--model", "-m", help="Only this member "
                                           "(repeatable; default: every member)."),
    probes: Path | None = typer.Option(None, "--probes", help="A probe file or battery "
                                       "directory (default: the built-in battery)."),
    probe: list[str] | None = typer.Option(None, "--probe", "-p", help="Only probes whose "
                                           "name matches this glob (repeatable)."),
    category: list[str] | None = typer.Option(None, "--category", "-c", help="Only probes "
                                              "of this category (repeatable)."),
    quick: bool = typer.Option(False, "--quick", help="Use the `quick` selection."),
    selection: str | None = typer.Option(None, "--selection", help="A named selection or a "
                                         "path."),
    raw: bool = typer.Option(False, "--raw", help="Plain prompts for every member (no chat "
                             "template; the server applies its own)."),
    trust_remote_code: bool = TRUST_REMOTE_CODE_OPTION,
) -> None:
    """Write one JSON line per (member, probe, item): the requests exactly as auditkit sends
    them (generation prompts rendered with the member's chat template unless --raw or the
    member is external) and what to bring back: a `reply`, or one log-likelihood per request.
    Run them anywhere, then list the model in family.yaml as `external: FILE` with its outputs
    (docs/family-format.md)."""
    from auditkit.audit import AuditOptions, select_probes
    from auditkit.family import load_family
    from auditkit.score.prompts import prompt_rows, write_prompts

    chosen = load_family(family)
    members = list(model or chosen.names)
    unknown = [m for m in members if m not in chosen.names]
    if unknown:
        raise AuditError(chosen.root, f"unknown models {unknown}; members are {chosen.names}",
                         field="--model")
    options = AuditOptions(family_dir=family, probes_dir=probes, probe_names=tuple(probe or ()),
                           categories=tuple(category or ()),
                           selection=selection_of(quick, selection))
    selected = select_probes(options)

    def render_for(member: str) -> Renderer | None:
        if raw or chosen.get(member).kind == "external":
            return None
        from auditkit.backend.prompts import member_renderer

        return member_renderer(chosen, member, trust_remote_code=trust_remote_code)

    n = write_prompts(out, prompt_rows(chosen, selected, members, render_for))
    console.print(f"Wrote {n} prompts ({len(members)} members, {len(selected)} probes) to "
                  f"[bold]{escape(str(out))}[/]", soft_wrap=True)
