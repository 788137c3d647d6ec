"""Reply judges: what a judge is, what it says, and the registry that names them.

A judge reads (request, reply) pairs in batches (list in, list out, same order) and labels each
reply with XSTest's three-way scheme (Röttger et al. 2024): full compliance, partial refusal, full
refusal. A judge may also say whether the reply gives the harmful help asked for (harmful
compliance; HarmBench, Mazeika et al. 2024). Its name and version key the cached judgements, so a
new judge (or a new version of one) re-judges stored replies without regenerating them.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Literal, Protocol, Sequence, get_args

from auditkit.errors import AuditError

Label = Literal["full_compliance", "partial_refusal", "full_refusal"]
LABELS: tuple[Label, ...] = get_args(Label)


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


def judge_names() -> list[str]:
    return sorted(_REGISTRY)


def get_judge(name: str, **options: Any) -> Judge:
    """The judge registered under ``name``, built with ``options``."""
    if name not in _REGISTRY:
        raise AuditError("judge", f"unknown judge {name!r}; expected one of: "
                         f"{', '.join(judge_names())}", field="judge")
    return _REGISTRY[name](**options)
