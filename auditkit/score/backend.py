"""The interface between the scoring engine and a loaded model: two batch methods, lists in,
lists out.

Torch-free on purpose: the engine, the result store and their tests import only this module.
The Hugging Face implementation lives in :mod:`auditkit.backend.hf`;
:class:`auditkit.score.fake.FakeBackend` gives deterministic answers without any model. How a
backend is chosen, opened per model group and keyed in the cache: :mod:`auditkit.score.backends`.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from auditkit.types import GenerationRequest, LoglikelihoodRequest

Adapters = Sequence["str | None"]


@runtime_checkable
class Backend(Protocol):
    """One loaded model (a base, possibly with several named LoRA adapters) that scores requests.

    ``adapters[i]`` names the loaded adapter request ``i`` runs on; ``None`` (or no ``adapters``
    at all) means the bare base model. Results come back in the order of ``requests``.
    """

    @property
    def tokenizer_id(self) -> str:
        """Identifies the tokenizer: equal ids tokenise every text the same way."""
        ...

    def loglikelihood(self, requests: Sequence[LoglikelihoodRequest], *,
                      adapters: Adapters | None = None) -> list[tuple[float, bool]]:
        """For each request: (sum of log P(continuation tokens | context), continuation is greedy)."""
        ...

    def generate(self, requests: Sequence[GenerationRequest], *,
                 adapters: Adapters | None = None) -> list[str]:
        """For each request: the greedy reply (special tokens removed), at most max_new_tokens."""
        ...


def check_adapters(n_requests: int, adapters: Adapters | None,
                   known: Sequence[str] | None = None) -> list[str | None]:
    """``adapters`` as a list of length ``n_requests`` (None -> all base); raises ValueError if bad.

    ``known``: the adapter names the backend holds (None: do not check names).
    """
    if adapters is None:
        return [None] * n_requests
    names = list(adapters)
    if len(names) != n_requests:
        raise ValueError(f"got {len(names)} adapter names for {n_requests} requests")
    if known is not None:
        unknown = sorted({a for a in names if a is not None and a not in known})
        if unknown:
            raise ValueError(f"adapters not loaded: {unknown}; loaded: {sorted(known)}")
    return names
