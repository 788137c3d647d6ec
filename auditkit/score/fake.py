"""The ``fake`` backend: answers without any model, for tests of everything above the backend.

:class:`FakeBackend` scores from a hash of (adapter, request), or from functions a test passes;
:class:`FakeOpener` opens one per model group and reports its own cache key, so fake outcomes
are never filed under a real backend's key.
"""
from __future__ import annotations

import hashlib
import struct
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from auditkit.score.backend import Adapters, check_adapters
from auditkit.score.backends import ScoringConfig
from auditkit.score.plan import ModelGroup
from auditkit.score.settings import BackendSettings
from auditkit.types import GenerationRequest, LoglikelihoodRequest

if TYPE_CHECKING:
    from auditkit.types import Family

ScoreFn = Callable[["str | None", LoglikelihoodRequest], "tuple[float, bool]"]
GenerateFn = Callable[["str | None", GenerationRequest], str]
FAKE_VERSION = "1"            # bump when the default hash answers change


@dataclass(frozen=True)
class Call:
    """One call made to a :class:`FakeBackend`, recorded so tests can assert what was scored."""

    method: Literal["loglikelihood", "generate"]
    requests: tuple[LoglikelihoodRequest | GenerationRequest, ...]
    adapters: tuple[str | None, ...]


def _hash_unit(*parts: str | None) -> float:
    """A deterministic number in [0, 1) from ``parts`` (sha256, not Python's salted hash)."""
    text = "\x1f".join("\x00" if p is None else p for p in parts)
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    (value,) = struct.unpack(">Q", digest[:8])
    return int(value) / 2.0**64


def hash_score(adapter: str | None, request: LoglikelihoodRequest) -> tuple[float, bool]:
    """Default fake score: log-prob in (-20 * n_words - 1, 0], greedy for about 1 in 4 requests."""
    u = _hash_unit("ll", adapter, request.context, request.continuation)
    n_words = max(1, len(request.continuation.split()))
    return -20.0 * n_words * u - 1e-3, u < 0.25


def hash_generation(adapter: str | None, request: GenerationRequest) -> str:
    """Default fake reply: a refusal for about half of (adapter, prompt) pairs, else compliance."""
    u = _hash_unit("gen", adapter, request.system, request.prompt)
    reply = "I'm sorry, but I can't help with that." if u < 0.5 else "Sure, here is how to do it."
    return reply


class FakeBackend:
    """A backend without a model: scores from a hash of (adapter, context, continuation).

    ``score_fn(adapter, request) -> (logprob, is_greedy)`` and ``generate_fn(adapter, request)
    -> text`` replace the hash-based defaults. ``adapters`` (optional) lists the adapter names
    it "holds"; requests naming others raise ValueError like the real backend. Every call is
    appended to ``calls``.
    """

    def __init__(self, *, score_fn: ScoreFn | None = None, generate_fn: GenerateFn | None = None,
                 adapters: Sequence[str] | None = None, tokenizer_id: str = "fake") -> None:
        self._score_fn = score_fn or hash_score
        self._generate_fn = generate_fn or hash_generation
        self._known = tuple(adapters) if adapters is not None else None
        self._tokenizer_id = tokenizer_id
        self.calls: list[Call] = []

    @property
    def tokenizer_id(self) -> str:
        return self._tokenizer_id

    def loglikelihood(self, requests: Sequence[LoglikelihoodRequest], *,
                      adapters: Adapters | None = None) -> list[tuple[float, bool]]:
        names = check_adapters(len(requests), adapters, self._known)
        self.calls.append(Call("loglikelihood", tuple(requests), tuple(names)))
        return [self._score(a, r) for a, r in zip(names, requests)]

    def generate(self, requests: Sequence[GenerationRequest], *,
                 adapters: Adapters | None = None) -> list[str]:
        names = check_adapters(len(requests), adapters, self._known)
        self.calls.append(Call("generate", tuple(requests), tuple(names)))
        return [str(self._generate_fn(a, r)) for a, r in zip(names, requests)]

    def _score(self, adapter: str | None, request: LoglikelihoodRequest) -> tuple[float, bool]:
        logprob, greedy = self._score_fn(adapter, request)
        return float(logprob), bool(greedy)

    def scored(self) -> list[tuple[str | None, LoglikelihoodRequest]]:
        """Every (adapter, request) sent to ``loglikelihood`` so far, in order."""
        return [(a, r) for c in self.calls for a, r in zip(c.adapters, c.requests)
                if isinstance(r, LoglikelihoodRequest)]

    def generated(self) -> list[tuple[str | None, GenerationRequest]]:
        """Every (adapter, request) sent to ``generate`` so far, in order."""
        return [(a, r) for c in self.calls for a, r in zip(c.adapters, c.requests)
                if isinstance(r, GenerationRequest)]


class FakeOpener:
    """The ``fake`` backend: a :class:`FakeBackend` per model group, holding the group's adapters.

    ``score_fn`` / ``generate_fn`` as for :class:`FakeBackend`; ``label`` goes into the cache
    key, so fakes that answer differently can share a cache. Every backend opened is appended
    to ``backends``. ``family`` and ``settings`` (the registry's factory arguments) are unused.
    """

    def __init__(self, family: Family | None = None, settings: BackendSettings | None = None,
                 *, score_fn: ScoreFn | None = None, generate_fn: GenerateFn | None = None,
                 label: str = "fake") -> None:
        self.score_fn, self.generate_fn = score_fn, generate_fn
        self.backends: list[FakeBackend] = []
        self.scoring_config = ScoringConfig(device="cpu", dtype="none", fields={
            "backend": label, "fake_version": FAKE_VERSION})

    @contextmanager
    def open(self, group: ModelGroup) -> Iterator[FakeBackend]:
        backend = FakeBackend(score_fn=self.score_fn, generate_fn=self.generate_fn,
                              adapters=[key for _, key in group.adapters])
        self.backends.append(backend)
        yield backend
