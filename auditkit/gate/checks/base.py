"""What a gate check is, and the registry that names them (docs/gate.md, "Adding a check").

A check kind is a key (what a policy writes), a title (what the outputs show), the type of its
threshold (validated by the policy loader) and a pure function of one probe's comparison row
(:data:`auditkit.gate.compare.TABLE_COLUMNS`) and the threshold. Adding one is one module with a
function decorated by :func:`register_check`, imported in ``auditkit/gate/checks/__init__.py``.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from auditkit.present import pct

THRESHOLD_TYPES = ("rate", "count", "flag", "native")   # see auditkit.gate.policy.VALUE_TYPES


@dataclass(frozen=True)
class CheckContext:
    """What a check may need beyond its row and threshold."""

    alpha: float               # the probe's significance level
    correction: str            # how the row's adjusted_p was corrected across probes
    # the probe's dataset-native metrics, parent against candidate (analyze.native.compare);
    # None when not computed
    native: pd.DataFrame | None = None


@dataclass(frozen=True)
class Outcome:
    passed: bool
    observed: float            # the checked quantity (NaN when it is undefined)
    detail: str                # what was observed against what was allowed, in words


Evaluate = Callable[[pd.Series, Any, CheckContext], Outcome]


@dataclass(frozen=True)
class CheckKind:
    key: str                   # the policy key, e.g. max_failure_rate
    title: str                 # e.g. "maximum failure rate"
    threshold: str             # one of THRESHOLD_TYPES
    evaluate: Evaluate


_REGISTRY: dict[str, CheckKind] = {}


def register_check(key: str, *, title: str, threshold: str) -> Callable[[Evaluate], Evaluate]:
    """Function decorator: the policy key ``key`` switches the check on."""
    if threshold not in THRESHOLD_TYPES:
        raise ValueError(f"threshold type of {key!r} must be one of {THRESHOLD_TYPES}")

    def add(evaluate: Evaluate) -> Evaluate:
        if key in _REGISTRY:
            raise ValueError(f"gate check {key!r} is registered twice")
        _REGISTRY[key] = CheckKind(key, title, threshold, evaluate)
        return evaluate
    return add


def check_kinds() -> list[CheckKind]:
    """Every registered check, in registration order."""
    return list(_REGISTRY.values())


def check_kind(key: str) -> CheckKind:
    return _REGISTRY[key]


def rates_text(row: pd.Series) -> str:
    """'failure rate 6.7% → 100.0%' (parent → candidate)."""
    return f"failure rate {pct(row['parent_rate'], 1)} → {pct(row['candidate_rate'], 1)}"
