"""The ``external`` backend: members known only by a file of their outputs, served through the
normal batch interface (requests in, answers out, same order).

A member that ``family.yaml`` marks ``external: FILE`` brings its outputs, produced elsewhere
(a model behind vLLM or TGI, another quantisation, an API): one row per (probe, item), read by
:mod:`auditkit.score.outputs`. The engine asks for requests, not items, so the backend indexes
the run's probes (each item's requests, in order) and answers a request from the row of the
item it belongs to: the reply of a generation, or the log-likelihood of the option at the
request's position. A request whose item has no row is an error naming the file, the probe and
the item. Outcomes are filed under the member's fingerprint, which is the file's digest.

In a family that mixes loaded and external members, :func:`with_external_members` routes each
model group to the backend that serves it: external members here, the others to the run's
backend, whose cache key (``scoring_config``) the run keeps.
"""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from auditkit.errors import AuditError
from auditkit.probes.kinds import Request, get_kind
from auditkit.score.backend import Adapters, check_adapters
from auditkit.score.backends import BackendOpener, ScoringConfig
from auditkit.score.outputs import Outputs, load_outputs
from auditkit.score.plan import ModelGroup
from auditkit.types import GenerationRequest, LoglikelihoodRequest, Probe

if TYPE_CHECKING:
    from auditkit.score.settings import BackendSettings
    from auditkit.types import Family

EXTERNAL_VERSION = "1"            # bump when the way outputs become outcomes changes
# request -> every (probe, item, position among the item's requests) it belongs to
RequestIndex = dict[Request, list[tuple[str, str, int]]]


def request_index(probes: Sequence[Probe]) -> RequestIndex:
    """Where each request of the probes comes from (one request may serve several items)."""
    index: RequestIndex = {}
    for probe in probes:
        kind = get_kind(probe.kind)
        for item in probe.items:
            for slot, request in enumerate(kind.requests(probe, item)):
                index.setdefault(request, []).append((probe.name, item.id, slot))
    return index


class ExternalBackend:
    """One external member's outputs as a :class:`~auditkit.score.backend.Backend`."""

    def __init__(self, outputs: Outputs, index: RequestIndex) -> None:
        self.outputs, self.index = outputs, index

    @property
    def tokenizer_id(self) -> str:
        return f"external:{self.outputs.digest}"

    def loglikelihood(self, requests: Sequence[LoglikelihoodRequest], *,
                      adapters: Adapters | None = None) -> list[tuple[float, bool]]:
        check_adapters(len(requests), adapters, ())
        return [(float(self._answer(r, "loglikelihoods")), False) for r in requests]

    def generate(self, requests: Sequence[GenerationRequest], *,
                 adapters: Adapters | None = None) -> list[str]:
        check_adapters(len(requests), adapters, ())
        return [str(self._answer(r, "reply")) for r in requests]

    def _answer(self, request: Request, column: str) -> Any:
        """The stored answer to ``request``; the same from every item it belongs to."""
        sources = self.index.get(request)
        if not sources:
            raise AuditError(self.outputs.path, f"no probe of this run asks {request!r}")
        answers = {(p, i): self.outputs.answer(p, i, slot, column) for p, i, slot in sources}
        found = {key: a for key, a in answers.items() if a is not None}
        if not found:
            probe, item, _ = sources[0]
            raise AuditError(self.outputs.path, f"no output for probe {probe!r} item {item!r}: "
                             f"expected a row with probe {probe!r}, item {item!r} and "
                             f"{column!r}", field=f"{probe}/{item}")
        if len(set(found.values())) > 1:
            where = ", ".join(f"probe {p!r} item {i!r}" for p, i in found)
            raise AuditError(self.outputs.path, f"different outputs for one request ({where} "
                             "ask the very same); expected the same answer for each",
                             field=column)
        return next(iter(found.values()))


class ExternalOpener:
    """The ``external`` backend for one run: opens an external member's outputs file.

    ``probes``: the run's probes (``bind`` gives them later, as the registry's factory has only
    the family and the settings)."""

    def __init__(self, family: Family, settings: BackendSettings | None = None,
                 probes: Sequence[Probe] | None = None) -> None:
        self.family = family
        self.index = request_index(probes) if probes is not None else None
        self.scoring_config = ScoringConfig(device="none", dtype="none", fields={
            "backend": "external", "external_version": EXTERNAL_VERSION})

    def bind(self, probes: Sequence[Probe]) -> ExternalOpener:
        self.index = request_index(probes)
        return self

    @contextmanager
    def open(self, group: ModelGroup) -> Iterator[ExternalBackend]:
        node = self.family.get(group.base)
        if node.kind != "external" or group.adapters:
            raise AuditError(node.path, f"the external backend serves only external members "
                             f"(family.yaml external: FILE); {group.label} is not one")
        if self.index is None:
            raise AuditError(node.path, "the external backend was not given the run's probes")
        yield ExternalBackend(load_outputs(node.path, digest=node.fingerprint), self.index)


class RoutedOpener:
    """External groups to ``external``, the others to ``inner``, under ``inner``'s cache key."""

    def __init__(self, inner: BackendOpener, external: ExternalOpener) -> None:
        self.inner, self.external = inner, external
        self.scoring_config = inner.scoring_config

    def open(self, group: ModelGroup) -> Any:
        if self.external.family.get(group.base).kind == "external":
            return self.external.open(group)
        return self.inner.open(group)


def has_external(family: Family) -> bool:
    return any(node.kind == "external" for node in family.models)


def with_external_members(opener: BackendOpener, family: Family,
                          probes: Sequence[Probe]) -> BackendOpener:
    """``opener``, or one that also serves the family's external members from their files."""
    if isinstance(opener, ExternalOpener):
        return opener.bind(probes)
    if not has_external(family):
        return opener
    return RoutedOpener(opener, ExternalOpener(family, probes=probes))

