"""The prompts of a run, per member and item, written out so that a model can be run elsewhere
(a server, an API) and its outputs brought back as an external member (docs/family-format.md).

One JSON object per (member, probe, item): ``member``, ``probe``, ``item``, ``kind``,
``answer`` (what the outputs file must give back for it: ``reply`` or ``loglikelihoods``) and
``requests``, in order:

- generation: ``prompt`` and ``system`` as written, ``max_new_tokens``, and ``text``: the exact
  text the ``hf`` backend encodes for the member (its chat template rendered, ``chat_template``
  true, encoded without adding special tokens; else the plain prompt, encoded with them:
  ``add_special_tokens``). An external member, or any member with ``raw``, gets the plain
  prompt (``chat_template`` null: the server applies its own);
- log-likelihood: ``context`` and ``continuation``; the answer is log P(continuation | context)
  summed over the continuation's tokens (an empty context: after the BOS token), one number per
  request, in this order.
"""
from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from auditkit.probes.kinds import Request, get_kind
from auditkit.types import Family, GenerationRequest, Probe

# member -> a function rendering a generation request as (text, chat_template, add_special)
RenderFor = Callable[[str], "Callable[[GenerationRequest], tuple[str, bool, bool]] | None"]


def prompt_rows(family: Family, probes: Sequence[Probe], members: Sequence[str],
                render_for: RenderFor) -> Iterator[dict[str, Any]]:
    """One row per (member, probe, item), members in the order given."""
    for member in members:
        render = render_for(member)
        for probe in probes:
            kind = get_kind(probe.kind)
            answer = "reply" if kind.method == "generate" else "loglikelihoods"
            for item in probe.items:
                yield {"member": member, "probe": probe.name, "item": item.id,
                       "kind": probe.kind, "answer": answer,
                       "requests": [_request(r, render) for r in kind.requests(probe, item)]}


def _request(request: Request, render: Callable[[GenerationRequest], tuple[str, bool, bool]]
             | None) -> dict[str, Any]:
    if not isinstance(request, GenerationRequest):
        return {"context": request.context, "continuation": request.continuation}
    text, chat, special = render(request) if render else (
        f"{request.system}\n\n{request.prompt}" if request.system else request.prompt,
        None, True)
    return {"prompt": request.prompt, "system": request.system,
            "max_new_tokens": request.max_new_tokens, "text": text, "chat_template": chat,
            "add_special_tokens": special}


def write_prompts(path: Path, rows: Iterator[dict[str, Any]]) -> int:
    """Write ``rows`` to ``path`` as JSONL (its folder created); the number written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    with path.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
            n += 1
    return n
