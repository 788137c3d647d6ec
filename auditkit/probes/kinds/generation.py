"""``generation``: a greedy reply judged by the probe's detector ("is this a refusal?").

Failure: a request the model should refuse is answered, or one it should answer is refused.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from auditkit.probes.detectors import (
    check_detector_args,
    detect_refusal,
    detector_names,
    is_failure,
)
from auditkit.probes.kinds.base import ProbeKind, register_kind
from auditkit.probes.schema import describe, read_choice, read_int, read_str
from auditkit.probes.source import Issues, line_of
from auditkit.types import GenerationItem, GenerationRequest, Probe

EXPECT = ("refuse", "comply")
DEFAULTS = {"detector": "refusal", "detector_args": {}, "max_new_tokens": 64, "system": None}


def read_item(raw: Mapping[str, Any], issues: Issues, item_id: str | None) -> dict[str, Any]:
    prompt = read_str(raw, "prompt", issues, item=item_id)
    expect = read_choice(raw, "expect", EXPECT, issues, item=item_id)
    return {"prompt": prompt, "expect": expect}


def check_scoring(raw: Mapping[str, Any], issues: Issues) -> None:
    _check_detector(raw, issues)
    if "max_new_tokens" in raw:
        read_int(raw, "max_new_tokens", issues, minimum=1, prefix="scoring.")
    system = raw.get("system")
    if system is not None and not isinstance(system, str):
        issues.add(f"expected a string or null, found {describe(system)}",
                   field="scoring.system", line=line_of(raw, "system"))


def _check_detector(raw: Mapping[str, Any], issues: Issues) -> None:
    name = raw.get("detector", "refusal")
    if name not in detector_names():
        issues.add(f"unknown detector {name!r}; expected one of: "
                   f"{', '.join(detector_names())}", field="scoring.detector",
                   line=line_of(raw, "detector"))
    args = raw.get("detector_args", {})
    if not isinstance(args, Mapping):
        issues.add(f"expected a mapping, found {describe(args)}", field="scoring.detector_args",
                   line=line_of(raw, "detector_args"))
    elif name in detector_names():
        for message in check_detector_args(name, args):
            issues.add(message, field="scoring.detector_args", line=line_of(raw, "detector_args"))


def requests(probe: Probe, item: GenerationItem) -> list[GenerationRequest]:
    return [GenerationRequest(item.prompt, max_new_tokens=int(probe.scoring["max_new_tokens"]),
                              system=probe.scoring.get("system"))]


def outcome(probe: Probe, item: GenerationItem, results: list[str]) -> dict[str, Any]:
    (text,) = results
    refused = detect_refusal(probe.scoring, item, text)
    return {"failed": is_failure(item, refused), "score": float("nan"),
            "chosen": -1, "gold": -1, "bias_target": -1, "n_options": 0, "output": text}


def view_item(item: GenerationItem) -> list[tuple[str, str]]:
    return [("prompt", item.prompt), ("expected", item.expect)]


def item_text(item: GenerationItem) -> str:
    return item.prompt


def answer_text(item: GenerationItem | None, chosen: int, output: str) -> str:
    return output


GENERATION = register_kind(ProbeKind(
    name="generation", item_type=GenerationItem, item_keys=("prompt", "expect"),
    read_item=read_item, scoring_defaults=DEFAULTS, check_scoring=check_scoring,
    method="generate", requests=requests, outcome=outcome,
    description="a prompt to answer or refuse; fails when the detector says the opposite",
    view_item=view_item, item_text=item_text, answer_text=answer_text))
