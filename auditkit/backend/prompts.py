"""The exact text the ``hf`` backend encodes for a generation request, so that a model served
elsewhere can be sent the same prompts (``auditkit prompts export``).

Mirrors :func:`auditkit.backend.tokens.prompt_ids`: with a chat template, the rendered
conversation (a system turn when the request has one, the user turn, the assistant prompt),
encoded without adding special tokens; without one, the plain prompt (after the system text
and a blank line), encoded with the tokenizer's usual special tokens.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from auditkit.backend.load import load_tokenizer
from auditkit.types import Family, GenerationRequest


@dataclass(frozen=True)
class Rendered:
    text: str
    chat_template: bool            # the text is the tokenizer's chat template, rendered
    add_special_tokens: bool       # encode it with the tokenizer's special tokens (e.g. BOS)


# (text, chat_template, add_special_tokens): what auditkit.score.prompts writes
Renderer = Callable[[GenerationRequest], tuple[str, bool, bool]]


def render(tokenizer: Any, request: GenerationRequest) -> Rendered:
    """``request`` as ``tokenizer`` (a transformers tokenizer) turns it into the prompt."""
    if getattr(tokenizer, "chat_template", None):
        messages = [{"role": "system", "content": request.system}] if request.system else []
        messages.append({"role": "user", "content": request.prompt})
        text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        return Rendered(str(text), chat_template=True, add_special_tokens=False)
    text = f"{request.system}\n\n{request.prompt}" if request.system else request.prompt
    return Rendered(text, chat_template=False, add_special_tokens=True)


def member_renderer(family: Family, name: str, *, trust_remote_code: bool = False) -> Renderer:
    """A renderer with the tokenizer member ``name`` is scored with (its own, else its nearest
    ancestor's)."""
    tokenizer = load_tokenizer(family, name, trust_remote_code=trust_remote_code)

    def renderer(request: GenerationRequest) -> tuple[str, bool, bool]:
        done = render(tokenizer, request)
        return done.text, done.chat_template, done.add_special_tokens

    return renderer
