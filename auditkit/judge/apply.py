"""The judging stage: between scoring and the store, the replies of generation probes judged.

The result cache holds each reply unjudged; :func:`judge_results` takes a run's results, its
probes and the judgement cache (:class:`auditkit.store.JudgementCache`, a table of the same
cache file) and fills, for the rows of judged kinds, ``label``, ``harmful``, ``judge``,
``judge_version``, ``confidence`` and ``failed``. Only what the cache lacks for the judge's
name and version is judged, in batches, each batch committed as it is judged; a reply shared by
several models (or probes) is judged once. A probe's judge is its ``scoring.judge`` with
``scoring.judge_args`` unless a :class:`JudgeChoice` (``auditkit run --judge``) says otherwise.

An item fails when the judge's label is one ``scoring.fail_on`` lists for the item's
``expect``, or when that list holds ``harmful_compliance`` and the judge says the reply is
harmful (:func:`fails`). ``harmful`` is recorded (1/0) for probes with ``record_harmful`` or
failing on harmful compliance, when the judge says it; -1 otherwise.
"""
from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import pandas as pd

from auditkit.errors import AuditError
from auditkit.judge.base import (
    HARMFUL_COMPLIANCE,
    LABELS,
    Judge,
    Judgement,
    check_judge_args,
    get_judge,
    judge_agreement,
    judge_names,
)
from auditkit.probes.kinds import get_kind
from auditkit.store.judgements import JudgementCache, reply_key
from auditkit.types import GenerationItem, Probe

BATCH = 512                        # replies per call to the judge (and per cache commit)


@dataclass(frozen=True)
class JudgeChoice:
    """The judge a run asks for. ``name`` None: each probe's own ``scoring.judge``, with
    ``args`` added to its ``judge_args``; a name: that judge for every judged probe, with
    ``args`` alone."""

    name: str | None = None
    args: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ProbeJudging:
    """Who judged one probe's replies, and how many were judged now or found cached."""

    judge: str
    version: str
    agreement: dict[str, float] | None
    judged: int                    # distinct replies judged by this call
    cached: int                    # distinct replies whose judgement was cached


@dataclass(frozen=True)
class Judged:
    results: pd.DataFrame                       # the results, judged rows filled
    probes: dict[str, ProbeJudging]             # judged probe name -> its judging


@runtime_checkable
class JudgeProgress(Protocol):
    def judging_started(self, judge: str, total: int) -> None: ...
    def judged(self, judge: str, n: int) -> None: ...


@dataclass(frozen=True)
class _Spec:
    """One judge to build: its name, arguments, and where they were given (for errors)."""

    name: str
    args_json: str
    where: str | Path
    args_field: str

    @property
    def args(self) -> dict[str, Any]:
        return dict(json.loads(self.args_json))


def fails(labels: Sequence[str], judgement: Judgement) -> bool:
    """The item fails: its label is in ``labels`` (the probe's ``fail_on`` for the item's
    expectation), or ``labels`` holds ``harmful_compliance`` and the judge says harmful."""
    return judgement.label in labels or (HARMFUL_COMPLIANCE in labels
                                         and judgement.harmful is True)


def judge_results(results: pd.DataFrame, probes: Sequence[Probe], cache: JudgementCache, *,
                  choice: JudgeChoice | None = None, fresh: bool = False, batch: int = BATCH,
                  progress: JudgeProgress | None = None) -> Judged:
    """``results`` with the rows of judged probes judged (see the module docstring); ``fresh``
    judges again what the cache holds (replacing it)."""
    choice = choice or JudgeChoice()
    if choice.name is not None:
        _checked(_Spec(choice.name, _json(choice.args), "command line", "--judge-arg"),
                 "--judge")                     # even when no probe is judged
    judged = [p for p in probes if get_kind(p.kind).judged]
    frame, out = results.copy(), {}
    for spec, group in _by_spec(judged, choice):
        judge = _build(spec)
        try:
            found, counts = _judgements(frame, group, judge, cache, fresh, batch, progress)
        finally:
            _close(judge)
        agreement = judge_agreement(judge)
        for probe in group:
            _fill(frame, probe, judge, found)
            out[probe.name] = ProbeJudging(judge.name, judge.version, agreement,
                                           *counts[probe.name])
    return Judged(frame, out)


def judge_spec(probe: Probe, choice: JudgeChoice) -> _Spec:
    """The judge of ``probe`` under ``choice`` (checked: a registered name, known args)."""
    if choice.name is not None:
        spec = _Spec(choice.name, _json(choice.args), "command line", "--judge-arg")
        return _checked(spec, "--judge")
    args = {**dict(probe.scoring.get("judge_args") or {}), **choice.args}
    spec = _Spec(str(probe.scoring.get("judge", "default")), _json(args),
                 probe.path or probe.name, "scoring.judge_args")
    return _checked(spec, "scoring.judge")


def _checked(spec: _Spec, name_field: str) -> _Spec:
    """``spec``, once its judge is known to be registered and to take its arguments."""
    if spec.name not in judge_names():
        raise AuditError(spec.where, f"unknown judge {spec.name!r}; expected one of: "
                         f"{', '.join(judge_names())}", field=name_field)
    problems = check_judge_args(spec.name, spec.args)
    if problems:
        raise AuditError(spec.where, "; ".join(problems), field=spec.args_field)
    return spec


def _json(args: Mapping[str, Any]) -> str:
    return json.dumps(dict(args), sort_keys=True, default=str)


def _by_spec(probes: Sequence[Probe], choice: JudgeChoice) -> list[tuple[_Spec, list[Probe]]]:
    """The probes grouped by judge (same name and arguments): each judge is built once."""
    groups: dict[tuple[str, str], tuple[_Spec, list[Probe]]] = {}
    for probe in probes:
        spec = judge_spec(probe, choice)
        groups.setdefault((spec.name, spec.args_json), (spec, []))[1].append(probe)
    return list(groups.values())


def _build(spec: _Spec) -> Judge:
    try:
        return get_judge(spec.name, **spec.args)
    except (AuditError, TypeError, ValueError) as err:
        raise AuditError(spec.where, f"cannot build judge {spec.name!r} with arguments "
                         f"{spec.args}: {err}", field=spec.args_field) from None


def _close(judge: Judge) -> None:
    close = getattr(judge, "close", None)
    if callable(close):
        close()


Row = tuple[Any, GenerationItem, str, str]        # (frame index, item, reply, reply key)


def _rows(frame: pd.DataFrame, probe: Probe) -> Iterator[Row]:
    """(frame index, item, reply, reply key) of each of the probe's rows."""
    items = {item.id: item for item in probe.items}
    system = probe.scoring.get("system")
    rows = frame.loc[frame["probe"] == probe.name, ["item", "output"]]
    for index, item_id, reply in rows.itertuples(name=None):
        item = items[item_id]
        if not isinstance(item, GenerationItem):
            raise AuditError(probe.path or probe.name, f"item {item_id!r} of a judged probe "
                             f"is a {type(item).__name__}; expected a GenerationItem")
        yield index, item, str(reply), reply_key(system, item.prompt, str(reply))


def _judgements(frame: pd.DataFrame, probes: Sequence[Probe], judge: Judge,
                cache: JudgementCache, fresh: bool, batch: int,
                progress: JudgeProgress | None) -> tuple[dict[str, Judgement],
                                                        dict[str, tuple[int, int]]]:
    """Every judgement the probes' rows need (reply key -> judgement), cached or judged now,
    and per probe (judged now, cached) counts of distinct replies."""
    todo: dict[str, tuple[str, str]] = {}             # key -> (request, reply)
    per_probe: dict[str, set[str]] = {}
    for probe in probes:
        keys = per_probe.setdefault(probe.name, set())
        for _, item, reply, key in _rows(frame, probe):
            todo.setdefault(key, (item.prompt, reply))
            keys.add(key)
    found = {} if fresh else cache.get_many(judge.name, judge.version, list(todo))
    cached = set(found)
    missing = [k for k in todo if k not in found]
    if progress is not None and missing:
        progress.judging_started(judge.name, len(missing))
    for start in range(0, len(missing), batch):
        chunk = missing[start:start + batch]
        found.update(_judge_batch(judge, chunk, [todo[k] for k in chunk], cache))
        if progress is not None:
            progress.judged(judge.name, len(chunk))
    counts = {name: (len(keys - cached), len(keys & cached)) for name, keys in per_probe.items()}
    return found, counts


def _judge_batch(judge: Judge, keys: Sequence[str], pairs: Sequence[tuple[str, str]],
                 cache: JudgementCache) -> dict[str, Judgement]:
    """Judge one batch, check what the judge said, and commit it to the cache."""
    got = judge.judge([q for q, _ in pairs], [r for _, r in pairs])
    if len(got) != len(keys) or any(j.label not in LABELS for j in got):
        raise AuditError("judge", f"judge {judge.name!r} returned {len(got)} judgements for "
                         f"{len(keys)} replies, or a label not in {', '.join(LABELS)}")
    cache.put_many(judge.name, judge.version, zip(keys, got))
    return dict(zip(keys, got))


def _fill(frame: pd.DataFrame, probe: Probe, judge: Judge,
          found: Mapping[str, Judgement]) -> None:
    """Write the judged columns of the probe's rows."""
    fail_on: Mapping[str, Sequence[str]] = probe.scoring["fail_on"]
    record = bool(probe.scoring.get("record_harmful")) or any(
        HARMFUL_COMPLIANCE in labels for labels in fail_on.values())
    rows = list(_rows(frame, probe))
    index = [row[0] for row in rows]
    got = [found[row[3]] for row in rows]
    frame.loc[index, "failed"] = [_fails(probe, judge, fail_on[row[1].expect], j)
                                  for row, j in zip(rows, got)]
    frame.loc[index, "label"] = [j.label for j in got]
    frame.loc[index, "harmful"] = [-1 if not record or j.harmful is None else int(j.harmful)
                                   for j in got]
    frame.loc[index, "confidence"] = [float(j.confidence) for j in got]
    frame.loc[index, "judge"] = judge.name
    frame.loc[index, "judge_version"] = judge.version


def _fails(probe: Probe, judge: Judge, labels: Sequence[str], judgement: Judgement) -> bool:
    if HARMFUL_COMPLIANCE in labels and judgement.harmful is None:
        raise AuditError(probe.path or probe.name, f"the probe fails on {HARMFUL_COMPLIANCE}, "
                         f"but judge {judge.name!r} does not say whether a reply is harmful; "
                         "expected a judge that does (e.g. default, or a model judge with a "
                         "harm question)", field="scoring.fail_on")
    return fails(labels, judgement)
