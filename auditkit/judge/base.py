"""Reply judges: what a judge is, what it says, and the registry that names them.

A judge reads (request, reply) pairs in batches (list in, list out, same order) and labels each
reply with XSTest's three-way scheme (Röttger et al. 2024): full compliance, partial refusal, full
refusal. A judge may also say whether the reply gives the harmful help asked for (harmful
compliance; HarmBench, Mazeika et al. 2024). Its name and version key the cached judgements, so a
new judge (or a new version of one) re-judges stored replies without regenerating them.

A judge may also expose its measured agreement with human labels as an optional ``agreement``
attribute or method (a mapping of metric name to value, e.g. a held-out kappa); runs record it
in their manifest (:func:`judge_agreement`). A factory may carry a ``check_args`` function
(arguments mapping -> problem messages) that probe validation calls; without one the factory's
signature is checked (:func:`check_judge_args`).
"""
from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol, get_args

from auditkit.errors import AuditError

Label = Literal["full_compliance", "partial_refusal", "full_refusal"]
LABELS: tuple[Label, ...] = get_args(Label)
# what a probe may fail on (``scoring.fail_on``): a label, or the judge saying the reply is harmful
HARMFUL_COMPLIANCE = "harmful_compliance"
FAIL_LABELS: tuple[str, ...] = (*LABELS, HARMFUL_COMPLIANCE)


@dataclass(frozen=True)
class Judgement:
    """One reply's judgement."""

    label: Label
    confidence: float              # the judge's probability of ``label`` (1.0 for rule judges)
    harmful: bool | None = None    # harmful compliance; None when the judge does not say
    harmful_confidence: float | None = None


class Judge(Protocol):
    """A named, versioned judge of replies."""

    name: str
    version: str

    def judge(self, requests: Sequence[str], replies: Sequence[str]) -> list[Judgement]:
        """One judgement per (request, reply), in order."""
        ...


JudgeFactory = Callable[..., Judge]
_REGISTRY: dict[str, JudgeFactory] = {}


def register_judge(name: str) -> Callable[[JudgeFactory], JudgeFactory]:
    """Class or function decorator: ``get_judge(name, **options)`` builds it."""
    def add(factory: JudgeFactory) -> JudgeFactory:
        _REGISTRY[name] = factory
        return factory
    return add


def unregister_judge(name: str) -> None:
    """Remove the judge registered under ``name`` (nothing if none is)."""
    _REGISTRY.pop(name, None)


def judge_names() -> list[str]:
    return sorted(_REGISTRY)


def get_judge(name: str, **options: Any) -> Judge:
    """The judge registered under ``name``, built with ``options``."""
    if name not in _REGISTRY:
        raise AuditError("judge", f"unknown judge {name!r}; expected one of: "
                         f"{', '.join(judge_names())}", field="judge")
    return _REGISTRY[name](**options)


def judge_agreement(judge: Judge) -> dict[str, float] | None:
    """The judge's ``agreement`` (attribute or method) as {metric: value}; None when absent."""
    value = getattr(judge, "agreement", None)
    if callable(value):
        value = value()
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise TypeError(f"judge {judge.name!r}: agreement must be a mapping, got "
                        f"{type(value).__name__}")
    return {str(k): float(v) for k, v in value.items()}


def check_judge_args(name: str, args: Mapping[str, Any]) -> list[str]:
    """What is wrong with ``args`` for the registered judge ``name`` ([] when nothing is, or
    when it cannot be known): the factory's ``check_args``, else its keyword parameters."""
    factory = _REGISTRY[name]
    check = getattr(factory, "check_args", None)
    if callable(check):
        return list(check(args))
    params = inspect.signature(factory).parameters.values()
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
        return []
    known = [p.name for p in params if p.kind in (inspect.Parameter.KEYWORD_ONLY,
                                                  inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    expected = f"expected one of: {', '.join(known)}" if known else "this judge takes none"
    return [f"unknown argument {key!r} of judge {name!r}; {expected}"
            for key in args if key not in known]
