"""Rendering a filled judge template into the exact text the judge model reads.

The text becomes the context of log-likelihood requests, which the backend encodes without
adding special tokens (see :mod:`auditkit.backend.tokens`), so every special token is written
here: a raw template gets the tokenizer's BOS token in front (Llama Guard 3's
``<|begin_of_text|>``, Llama 2's ``<s>``, as their reference code gets from the tokenizer); a
chat template goes through the tokenizer's own chat template, which writes its own.

The tokenizer is used duck-typed (``apply_chat_template``, ``__call__``, ``decode``), so this
module imports no torch or transformers. The backend cuts an over-long context from the left,
which would drop the judge's instructions; so a prompt that does not fit the model's window is
shortened here, from the end of the reply, and one that cannot fit is an error.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

from jinja2 import TemplateError

from auditkit.errors import AuditError
from auditkit.judge.prompts import PromptTemplate

MAX_CUTS = 4   # re-tokenising a cut reply can shift a token or two; retry a few times


class Renderer(Protocol):
    def render(self, template: PromptTemplate, request: str, reply: str) -> str:
        """The full context text for ``template`` filled with (request, reply)."""
        ...


class TokenizerRenderer:
    """Renders with a Hugging Face tokenizer; ``window``: the model's context length in tokens
    (None: no limit); ``where``: the judge model's path, for errors."""

    def __init__(self, tokenizer: Any, window: int | None, where: Path) -> None:
        self.tokenizer = tokenizer
        self.window = window
        self.where = where

    def render(self, template: PromptTemplate, request: str, reply: str) -> str:
        text = self.wrap(template, template.fill(request, reply))
        if self.window is None:
            return text
        # the answer's tokens are scored after the context and must fit too, with the context's
        # trailing whitespace, which the backend moves onto the answer
        space = text[len(text.rstrip()):]
        room = self.window - max(self.n_tokens(space + answer) for answer, _ in template.answers)
        for _ in range(MAX_CUTS):
            over = self.n_tokens(text) - room
            reply_ids = self._ids(reply)
            if over <= 0 or not reply_ids:
                break
            reply = self.tokenizer.decode(reply_ids[:max(0, len(reply_ids) - over)])
            text = self.wrap(template, template.fill(request, reply))
        if self.n_tokens(text) > room:
            raise AuditError(self.where, f"the {template.name!r} judge prompt needs "
                             f"{self.n_tokens(text)} tokens even with the reply cut, more than "
                             f"the model's window of {self.window} tokens (less the answer)")
        return text

    def wrap(self, template: PromptTemplate, filled: str) -> str:
        """The filled text as the model reads it (see the module docstring)."""
        if template.wrap == "raw":
            return (self.tokenizer.bos_token or "") + filled
        if not getattr(self.tokenizer, "chat_template", None):
            raise AuditError(self.where, f"the {template.name!r} template is a chat prompt but "
                             "the model's tokenizer has no chat template; use an instruction "
                             "model, or a raw template", field="chat_template")
        messages = [{"role": "system", "content": template.system}] if template.system else []
        messages.append({"role": "user", "content": filled})
        try:
            return self._chat(messages)
        except TemplateError:
            if not template.system:
                raise
        # some chat templates refuse a system turn: it then opens the user turn
        return self._chat([{"role": "user", "content": f"{template.system}\n\n{filled}"}])

    def _chat(self, messages: list[dict[str, str]]) -> str:
        return str(self.tokenizer.apply_chat_template(messages, tokenize=False,
                                                      add_generation_prompt=True))

    def n_tokens(self, text: str) -> int:
        return len(self._ids(text))

    def _ids(self, text: str) -> list[int]:
        return list(self.tokenizer(text, add_special_tokens=False)["input_ids"])
