"""Which log-likelihood requests share the key/value cache of a common prefix, and how far.

A request's input is context + continuation[:-1]. Requests on one adapter whose inputs begin
with the same tokens can encode those tokens once and run only their own remainders on top of
the cache (:func:`auditkit.backend.loglik.shared_batch`). Two cases matter: the options of a
choice item share their context; the two sentences of a pair (empty context, i.e. BOS) share
the tokens before the group they mention ("He couldn't figure out the issue ... most" black /
white "kids ...").

Planning, per (adapter, context): the continuations are sorted, so that every set of them with
a common start is a run of neighbours whose common start is the smallest common start of two
neighbours. A dynamic programme over that order picks the runs (at most ``MAX_GROUP`` units)
that save the most tokens: a run of n units sharing s tokens saves (n - 1) x s. A run is allowed
only when scoring its units one by one would cost ``min_ratio`` times the tokens of sharing
(the shared route runs two forward passes and pads twice, so tiny savings lose).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from auditkit.backend.loglik import Unit

MAX_GROUP = 64     # units in one shared group at most (bounds the planning to O(n x 64))


@dataclass(frozen=True)
class SharedGroup:
    """Units (indices) that share their context plus ``extra`` continuation tokens."""

    members: tuple[int, ...]
    extra: int


def plan_sharing(units: Sequence[Unit], todo: Sequence[int], *, max_len: int,
                 min_ratio: float) -> tuple[list[SharedGroup], list[int]]:
    """(groups sharing a prefix, longest first; the other indices of ``todo``, for the plain
    route). Units longer than ``max_len`` (cut from the left) are never shared."""
    buckets: dict[tuple[str | None, tuple[int, ...]], list[int]] = {}
    for i in todo:
        pair = units[i].pair
        if len(pair.context) + len(pair.continuation) - 1 <= max_len:
            buckets.setdefault((units[i].adapter, pair.context), []).append(i)
    groups: list[SharedGroup] = []
    for members in buckets.values():
        if len(members) > 1:
            groups += _best_runs(units, members, min_ratio)
    groups.sort(key=lambda g: (-group_length(units, g), g.members[0]))
    shared = {i for g in groups for i in g.members}
    return groups, [i for i in todo if i not in shared]


def group_length(units: Sequence[Unit], group: SharedGroup) -> int:
    """The longest input of the group (the shared prefix plus its longest remainder)."""
    pairs = [units[i].pair for i in group.members]
    return len(pairs[0].context) + max(len(p.continuation) for p in pairs) - 1


def _best_runs(units: Sequence[Unit], members: list[int], min_ratio: float) -> list[SharedGroup]:
    """The runs of one (adapter, context) bucket that save the most tokens (see module doc)."""
    order = sorted(members, key=lambda i: units[i].pair.continuation)
    conts = [units[i].pair.continuation for i in order]
    n_ctx = len(units[order[0]].pair.context)
    common = [_common_start(a, b) for a, b in zip(conts, conts[1:])]   # neighbours' common start
    best = [0] * (len(order) + 1)          # best[j]: most tokens saved among the first j units
    choice = list(range(len(order) + 1))   # choice[j]: where the last run ending at j-1 starts
    for j in range(len(order)):
        best[j + 1], choice[j + 1] = best[j], j
        extra, rest = len(conts[j]) - 1, len(conts[j]) - 1
        for i in range(j - 1, max(-1, j - MAX_GROUP), -1):
            extra = min(extra, common[i], len(conts[i]) - 1)
            rest += len(conts[i]) - 1
            n = j - i + 1
            plain, shared = n * n_ctx + rest, n_ctx + rest - (n - 1) * extra
            if plain >= min_ratio * shared and best[i] + plain - shared > best[j + 1]:
                best[j + 1], choice[j + 1] = best[i] + plain - shared, i
    return _runs(order, conts, choice)


def _runs(order: list[int], conts: list[tuple[int, ...]], choice: list[int]) -> list[SharedGroup]:
    """The runs of more than one unit that ``choice`` (from the programme above) picked."""
    groups, j = [], len(order)
    while j > 0:
        i = choice[j]
        if j - i > 1:
            extra = min(min(len(c) - 1 for c in conts[i:j]),
                        min(_common_start(a, b) for a, b in zip(conts[i:j], conts[i + 1:j])))
            groups.append(SharedGroup(tuple(order[i:j]), extra))
        j = i
    return groups[::-1]


def _common_start(a: tuple[int, ...], b: tuple[int, ...]) -> int:
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n
