"""What a probe kind is, and the registry that names them.

A kind says everything auditkit needs to know about one way of probing a model: which keys its
items have and how they are checked, which ``scoring`` options it takes (with their defaults),
which backend call its items become and how an outcome is computed from the answers. Adding a
kind is one module that builds a :class:`ProbeKind` and calls :func:`register_kind`; nothing
else in auditkit switches on the kind's name.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Literal, Mapping, Sequence

from auditkit.errors import AuditError
from auditkit.probes.source import Issues
from auditkit.types import GenerationRequest, Item, LoglikelihoodRequest, Probe

COMMON_ITEM_KEYS = ("id", "group", "meta")

Method = Literal["loglikelihood", "generate"]    # the Backend method a kind's requests go to
Request = LoglikelihoodRequest | GenerationRequest
# (raw item mapping, issues, item id) -> the kind's own field values, problems recorded
ItemReader = Callable[[Mapping[str, Any], Issues, "str | None"], "dict[str, Any] | None"]
# (raw scoring mapping, issues) -> None; records a problem per bad option (unknown keys are
# found before, against the defaults' keys)
ScoringChecker = Callable[[Mapping[str, Any], Issues], None]
RequestBuilder = Callable[[Probe, Any], Sequence[Request]]
# (probe, item, the backend's answers to the item's requests, in order) -> outcome columns
OutcomeFn = Callable[[Probe, Any, list[Any]], dict[str, Any]]


@dataclass(frozen=True)
class ProbeKind:
    """One probe kind: item format, scoring options, requests and outcomes.

    ``item_type(id=, group=, meta=, **read_item(...))`` builds an item; ``item_keys`` are the
    kind's own keys (``id``, ``group`` and ``meta`` are common to every kind). ``outcome``
    returns the outcome columns of the results table (``failed``, ``score``, ``chosen``,
    ``gold``, ``bias_target``, ``n_options``, ``output``; docs/run-format.md).
    """

    name: str
    item_type: Callable[..., Item]
    item_keys: tuple[str, ...]
    read_item: ItemReader
    scoring_defaults: Mapping[str, Any]
    check_scoring: ScoringChecker
    method: Method
    requests: RequestBuilder
    outcome: OutcomeFn
    description: str = ""

    @property
    def allowed_item_keys(self) -> frozenset[str]:
        """Every key an item of this kind may have."""
        return frozenset(COMMON_ITEM_KEYS + self.item_keys)


_REGISTRY: dict[str, ProbeKind] = {}


def register_kind(kind: ProbeKind) -> ProbeKind:
    """Add (or replace) ``kind`` under its name; returns it, so a module can keep it."""
    if kind.method not in ("loglikelihood", "generate"):
        raise ValueError(f"probe kind {kind.name!r}: method must be 'loglikelihood' or "
                         f"'generate', got {kind.method!r}")
    _REGISTRY[kind.name] = kind
    return kind


def unregister_kind(name: str) -> None:
    """Remove the kind registered under ``name`` (nothing if none is)."""
    _REGISTRY.pop(name, None)


def kind_names() -> list[str]:
    """The registered kinds, in registration order (the built-ins first)."""
    return list(_REGISTRY)


def get_kind(name: str) -> ProbeKind:
    """The kind registered under ``name``; AuditError naming the registered ones if none."""
    if name not in _REGISTRY:
        raise AuditError("kind", f"unknown probe kind {name!r}; expected one of: "
                         f"{', '.join(kind_names())}", field="kind")
    return _REGISTRY[name]
