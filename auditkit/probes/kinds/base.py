"""What a probe kind is, and the registry that names them.

A kind says everything auditkit needs to know about one way of probing a model: which keys its
items have and how they are checked, which ``scoring`` options it takes (with their defaults),
which backend call its items become and how an outcome is computed from the answers. Adding a
kind is one module that builds a :class:`ProbeKind` and calls :func:`register_kind`; nothing
else in auditkit switches on the kind's name.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any, Literal

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
ItemView = Callable[[Any], list[tuple[str, str]]]        # item -> (label, text) lines
ItemText = Callable[[Any], str]                          # item -> one line
# (item or None when unknown, outcome's chosen, outcome's output) -> the answer in words
AnswerText = Callable[[Any, int, str], str]
# the scoring options read (defaults filled, deprecated keys still in) -> their canonical form
ScoringNormalizer = Callable[[dict[str, Any]], dict[str, Any]]


def own_fields(item: Any) -> list[tuple[str, str]]:
    """The item's fields other than id, group and meta, as (name, text): the default view."""
    return [(f.name, str(getattr(item, f.name))) for f in fields(item)
            if f.name not in COMMON_ITEM_KEYS]


def fields_text(item: Any) -> str:
    """The default one-line text of an item: its own fields joined by `` / ``."""
    return " / ".join(text for _, text in own_fields(item))


def output_or_choice(item: Any, chosen: int, output: str) -> str:
    """The default answer in words: the output when there is one, else the index chosen."""
    return output if output else (f"option {chosen}" if chosen >= 0 else "")


def as_read(scoring: dict[str, Any]) -> dict[str, Any]:
    """The default normalizer: the scoring options as read."""
    return scoring


@dataclass(frozen=True)
class ProbeKind:
    """One probe kind: item format, scoring options, requests, outcomes and how they read.

    ``item_type(id=, group=, meta=, **read_item(...))`` builds an item; ``item_keys`` are the
    kind's own keys (``id``, ``group`` and ``meta`` are common to every kind). ``outcome``
    returns the outcome columns of the results table (``failed``, ``score``, ``chosen``,
    ``gold``, ``bias_target``, ``n_options``, ``output``; docs/run-format.md). ``view_item``,
    ``item_text`` and ``answer_text`` say in words what an item asks and what a model answered
    (the reports and the gate show them, :mod:`auditkit.present`); the defaults list the
    item's fields and show the output, or the option chosen.

    A ``judged`` kind's outcomes are replies: its ``outcome`` leaves ``failed`` false and
    ``label`` empty, and the judging stage (:mod:`auditkit.judge.apply`) labels each reply with
    the probe's judge (``scoring.judge``, ``scoring.judge_args``) and decides ``failed`` from
    the item's ``expect`` and ``scoring.fail_on``. ``unversioned_scoring`` are the scoring keys
    that do not enter the probe's version (how replies are judged, not how they are made, so
    a change keeps the cached replies); ``scoring_aliases`` are deprecated keys that
    ``check_scoring`` still accepts and ``normalize_scoring`` rewrites.
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
    view_item: ItemView = own_fields
    item_text: ItemText = fields_text
    answer_text: AnswerText = output_or_choice
    judged: bool = False
    unversioned_scoring: frozenset[str] = frozenset()
    scoring_aliases: frozenset[str] = frozenset()
    normalize_scoring: ScoringNormalizer = as_read

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


def find_kind(name: str) -> ProbeKind | None:
    """The kind registered under ``name``, None if there is none."""
    return _REGISTRY.get(name)


def kind_of_item(item: Any) -> ProbeKind | None:
    """The registered kind whose items are of ``item``'s type, None if there is none."""
    for kind in _REGISTRY.values():
        if isinstance(kind.item_type, type) and isinstance(item, kind.item_type):
            return kind
    return None


def get_kind(name: str) -> ProbeKind:
    """The kind registered under ``name``; AuditError naming the registered ones if none."""
    if name not in _REGISTRY:
        raise AuditError("kind", f"unknown probe kind {name!r}; expected one of: "
                         f"{', '.join(kind_names())}", field="kind")
    return _REGISTRY[name]
