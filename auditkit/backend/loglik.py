"""Log-likelihood batches: the plain route and the shared-prefix route.

Both call ``run`` (see :class:`RunModel`), which returns logits only at the positions a boolean
``keep`` mask selects, flattened row by row: (n_kept, vocab). Scores are reduced from those
rows in fp32 (log-sum-exp and the target's logit), a few rows at a time so memory stays bounded.

Plain route: each request is one right-padded row, input = (context + continuation)[:-1]; the
last len(continuation) positions predict the continuation.

Shared route: the rows of a batch that share (adapter, prefix) are one group, where the prefix
is the context plus the first ``extra`` continuation tokens common to the group (0 for choice
options, which share only their context; the common start of a pair's two sentences). The
prefixes are encoded once, left-padded so that every prefix ends in the last column; its last
extra + 1 columns predict the continuations' first extra + 1 tokens (the same rows for every
member). The key/value cache rows are then repeated, one per member, and the members'
remainders (continuation[extra:-1]) run on top of it, right-padded, with position ids continuing
from each prefix's true length.

Passes: a batch's rows (plain inputs, prefixes, remainders) are sorted by length and cut into
forward passes by :func:`cut_passes`, which trades the padding a wide pass carries against the
fixed cost of one more pass (``overhead``, in tokens; None: one pass). On the CPU a pass costs
about 32 tokens' worth on its own (SmolLM2-135M, 1 thread: 85 ms for 1 x 1 token, then about
2.5-2.9 ms per token), while a batch's remainders, sorted by the pair's whole length, were 29%
padding (CrowS-Pairs-sized probe, the engine's chunks).
"""
from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import torch
import torch.nn.functional as F

from auditkit.backend.tokens import EncodedPair

LOGSOFTMAX_ELEMENTS = 1 << 25   # fp32 log-sum-exp over at most this many (rows x vocab) at a time


@dataclass(frozen=True)
class Unit:
    """One distinct request to score: the adapter it runs on and its token ids."""

    adapter: str | None
    pair: EncodedPair


class RunModel(Protocol):
    def __call__(self, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                 adapters: Sequence[str | None], keep: torch.Tensor, *,
                 position_ids: torch.Tensor | None = None, past: Any = None,
                 use_cache: bool = False) -> tuple[torch.Tensor, Any]:
        """(logits (n_kept, vocab) at the True cells of keep (batch, seq), the KV cache or None)."""
        ...


def cut_passes(widths: Sequence[int], overhead: int | None) -> list[range]:
    """Cut rows of ``widths`` (sorted descending) into consecutive passes that minimise
    padded tokens (rows x the pass's first width) + ``overhead`` per pass (None: one pass).

    A dynamic programme over the places where the width changes (cutting between rows of one
    width only adds a pass): O(distinct widths^2).
    """
    n = len(widths)
    if n == 0:
        return []
    if overhead is None:
        return [range(n)]
    edges = [0] + [i for i in range(1, n) if widths[i] != widths[i - 1]] + [n]
    best = [0] + [0] * (len(edges) - 1)   # best[b]: least cost of the rows before edges[b]
    back = [0] * len(edges)
    for b in range(1, len(edges)):
        best[b], back[b] = min((best[a] + overhead + (edges[b] - edges[a]) * widths[edges[a]], a)
                               for a in range(b))
    cuts, b = [], len(edges) - 1
    while b > 0:
        cuts.append(range(edges[back[b]], edges[b]))
        b = back[b]
    return cuts[::-1]


class Passes:
    """The logits of a batch's forward passes, rows numbered across passes in order."""

    def __init__(self) -> None:
        self.logits: list[torch.Tensor] = []   # each (rows of that pass, vocab)
        self.size = 0

    def add(self, logits: torch.Tensor, owners: Sequence[int],
            counts: Sequence[int]) -> dict[int, int]:
        """Keep one pass's logits, whose rows are ``counts[i]`` consecutive rows of each of
        ``owners`` in turn; owner -> the global number of its first row."""
        start = self.size
        self.logits.append(logits)
        self.size += logits.shape[0]
        offsets = itertools.accumulate(counts, initial=0)
        return {owner: start + n for owner, n in zip(owners, offsets)}


def plain_window(pair: EncodedPair, max_len: int) -> list[int]:
    """The input ids of the plain route, cut from the left to the model's window."""
    ids = list(pair.context + pair.continuation[:-1])
    return ids[-max_len:]


def plain_batch(units: Sequence[Unit], run: RunModel, *, pad_id: int, max_len: int,
                device: torch.device, overhead: int | None = None) -> list[tuple[float, bool]]:
    """Score ``units`` as right-padded rows, in passes of similar length (see module doc)."""
    seqs = [plain_window(u.pair, max_len) for u in units]
    order = sorted(range(len(units)), key=lambda i: -len(seqs[i]))
    passes = Passes()
    first: dict[int, int] = {}   # unit -> global row of its first scored token
    for cut in cut_passes([len(seqs[i]) for i in order], overhead):
        rows = [order[j] for j in cut]
        ids, mask = _right_pad([seqs[i] for i in rows], pad_id, device)   # (rows, width)
        keep = torch.zeros_like(mask, dtype=torch.bool)   # (rows, width) the scored positions
        for r, i in enumerate(rows):
            keep[r, len(seqs[i]) - len(units[i].pair.continuation):len(seqs[i])] = True
        logits, _ = run(ids, mask, [units[i].adapter for i in rows], keep)
        first.update(passes.add(logits, rows, [len(units[i].pair.continuation) for i in rows]))
    token_rows = [first[k] + t for k, u in enumerate(units) for t in range(len(u.pair.continuation))]
    targets = [t for u in units for t in u.pair.continuation]
    return reduce_scores(passes, token_rows, targets, [len(u.pair.continuation) for u in units])


@dataclass(frozen=True)
class SharedUnit:
    """A unit of the shared route: its input's first len(context) + ``extra`` tokens are shared."""

    unit: Unit
    extra: int

    @property
    def prefix(self) -> tuple[int, ...]:
        return self.unit.pair.context + self.unit.pair.continuation[:self.extra]


def group_runs(units: Sequence[SharedUnit]) -> list[list[int]]:
    """Consecutive indices of ``units`` that share (adapter, prefix)."""
    runs: list[list[int]] = []
    for i, unit in enumerate(units):
        prev = units[runs[-1][0]] if runs else None
        if prev is not None and (prev.unit.adapter, prev.prefix) == (unit.unit.adapter, unit.prefix):
            runs[-1].append(i)
        else:
            runs.append([i])
    return runs


@dataclass(frozen=True)
class Prefixes:
    """The encoded prefixes of a batch's groups: per layer (keys, values), each (groups, kv
    heads, width, head dim), left-padded to one width; their mask (groups, width); the global
    row of each group's first kept logits row."""

    kv: list[tuple[torch.Tensor, torch.Tensor]]
    mask: torch.Tensor
    first_row: dict[int, int]   # group -> global row of its first kept logits row
    cache_type: type


def shared_batch(units: Sequence[SharedUnit], run: RunModel, *, pad_id: int,
                 device: torch.device, overhead: int | None = None) -> list[tuple[float, bool]]:
    """Score ``units`` (sharing prefixes in consecutive runs) with one KV cache per prefix."""
    runs = group_runs(units)
    heads = [units[r[0]] for r in runs]
    group_of = [g for g, run_ in enumerate(runs) for _ in run_]   # unit -> its group
    passes = Passes()
    pre = _prefix_passes(heads, run, pad_id, device, overhead, passes)
    own = _remainders(units, group_of, pre, run, pad_id, device, overhead, passes)
    token_rows = []
    for k, unit in enumerate(units):   # unit k: its group's prefix rows, then its own rows
        n_rest = len(unit.unit.pair.continuation) - 1 - unit.extra
        first = pre.first_row[group_of[k]]
        token_rows += list(range(first, first + unit.extra + 1))
        token_rows += list(range(own.get(k, 0), own.get(k, 0) + n_rest))
    targets = [t for u in units for t in u.unit.pair.continuation]
    return reduce_scores(passes, token_rows, targets,
                         [len(u.unit.pair.continuation) for u in units])


def _prefix_passes(heads: Sequence[SharedUnit], run: RunModel, pad_id: int,
                   device: torch.device, overhead: int | None, passes: Passes) -> Prefixes:
    """Encode each group's prefix (in passes of similar length); keep its last extra + 1 rows."""
    prefixes = [list(h.prefix) for h in heads]
    order = sorted(range(len(heads)), key=lambda g: -len(prefixes[g]))
    width = len(prefixes[order[0]])
    first_row: dict[int, int] = {}
    kv_parts, masks, cache = [], [], None
    for cut in cut_passes([len(prefixes[g]) for g in order], overhead):
        groups = [order[j] for j in cut]
        ids, mask = _left_pad([prefixes[g] for g in groups], pad_id, device)   # (groups, w)
        keep = torch.zeros_like(mask, dtype=torch.bool)
        for r, g in enumerate(groups):                                        # last extra + 1
            keep[r, keep.shape[1] - heads[g].extra - 1:] = True
        logits, cache = run(ids, mask, [heads[g].unit.adapter for g in groups], keep,
                            position_ids=(mask.cumsum(-1) - 1).clamp(min=0), use_cache=True)
        first_row.update(passes.add(logits, groups, [heads[g].extra + 1 for g in groups]))
        grow = width - mask.shape[1]            # left-pad this pass's cache to the widest prefix
        kv_parts.append([(F.pad(k, (0, 0, grow, 0)), F.pad(v, (0, 0, grow, 0)))
                         for k, v, *_ in cache])
        masks.append(F.pad(mask, (grow, 0)))
    back = torch.tensor(order, device=device).argsort()   # sorted order -> group order
    kv = [(k, v) for k, v in _merge(kv_parts, back)]
    return Prefixes(kv, torch.cat(masks)[back], first_row, type(cache))


def _merge(parts: list[list[tuple[torch.Tensor, torch.Tensor]]],
           back: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Per layer, the passes' (keys, values) stacked and put back in group order."""
    if len(parts) == 1:
        return [(k[back], v[back]) for k, v in parts[0]]
    return [(torch.cat([p[i][0] for p in parts])[back], torch.cat([p[i][1] for p in parts])[back])
            for i in range(len(parts[0]))]


def _remainders(units: Sequence[SharedUnit], group_of: list[int], pre: Prefixes, run: RunModel,
                pad_id: int, device: torch.device, overhead: int | None,
                passes: Passes) -> dict[int, int]:
    """Run each unit's remainder (continuation[extra:-1]) on its group's cached prefix, in
    passes of similar length; unit -> global row of its first own logits row."""
    seqs = {k: list(u.unit.pair.continuation[u.extra:-1]) for k, u in enumerate(units)}
    more = sorted((k for k in seqs if seqs[k]), key=lambda k: -len(seqs[k]))
    lengths = pre.mask.sum(-1)                                    # (groups,) true prefix lengths
    first: dict[int, int] = {}
    for cut in cut_passes([len(seqs[k]) for k in more], overhead):
        rows = [more[j] for j in cut]
        select = torch.tensor([group_of[k] for k in rows], device=device)
        cols = int(lengths[select].max())     # the widest prefix here; left columns are padding
        cache = pre.cache_type(ddp_cache_data=[(k[select, :, -cols:], v[select, :, -cols:])
                                               for k, v in pre.kv])
        ids, own_mask = _right_pad([seqs[k] for k in rows], pad_id, device)   # (rows, w)
        mask = torch.cat([pre.mask[select, -cols:], own_mask], dim=1)   # (rows, cols + w)
        position_ids = lengths[select][:, None] + torch.arange(ids.shape[1], device=device)
        logits, _ = run(ids, mask, [units[k].unit.adapter for k in rows], own_mask.bool(),
                        position_ids=position_ids, past=cache, use_cache=True)
        first.update(passes.add(logits, rows, [len(seqs[k]) for k in rows]))
    return first


def _right_pad(seqs: list[list[int]], pad_id: int,
               device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(len(s) for s in seqs)
    ids = torch.tensor([s + [pad_id] * (width - len(s)) for s in seqs], device=device)
    mask = torch.tensor([[1] * len(s) + [0] * (width - len(s)) for s in seqs], device=device)
    return ids, mask


def _left_pad(seqs: list[list[int]], pad_id: int,
              device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(len(s) for s in seqs)
    ids = torch.tensor([[pad_id] * (width - len(s)) + s for s in seqs], device=device)
    mask = torch.tensor([[0] * (width - len(s)) + [1] * len(s) for s in seqs], device=device)
    return ids, mask


def reduce_scores(passes: Passes, rows: Sequence[int], targets: Sequence[int],
                  counts: Sequence[int]) -> list[tuple[float, bool]]:
    """Per request: (sum of log p(target), all targets are the argmax).

    Token j of the flattened targets is scored at global row ``rows[j]`` of ``passes``;
    ``counts`` splits the tokens into requests (each >= 1). Each pass is reduced on its own
    (no copy of all the logits into one tensor).
    """
    target = torch.tensor(list(targets), device=passes.logits[0].device)
    index = torch.tensor(list(rows), device=target.device)
    picked = torch.empty(len(target), dtype=torch.float32, device=target.device)
    norms, tops, start = [], [], 0
    for logits in passes.logits:
        mine = ((index >= start) & (index < start + logits.shape[0])).nonzero().squeeze(1)
        picked[mine] = logits[index[mine] - start, target[mine]].float()   # target logits
        norm, top = _row_stats(logits)
        norms.append(norm)
        tops.append(top)
        start += logits.shape[0]
    # log p(t) = logit(t) - logsumexp(row), in fp32, no (rows, vocab) log-softmax written out
    token_lp = (picked - torch.cat(norms)[index]).double().cpu().numpy()
    token_ok = (torch.cat(tops)[index] == target).cpu().numpy()
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
    sums = np.add.reduceat(token_lp, starts)
    alls = np.logical_and.reduceat(token_ok, starts)
    return [(float(s), bool(a)) for s, a in zip(sums, alls)]


def _row_stats(logits: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(logsumexp, argmax) of each row of ``logits`` (rows, vocab), in fp32, a few rows at a
    time; once per row however many tokens are scored at it (shared prefix rows)."""
    step = max(1, LOGSOFTMAX_ELEMENTS // max(1, logits.shape[-1]))
    norms, tops = [], []
    for start in range(0, logits.shape[0], step):
        chunk = logits[start:start + step].float()                  # (chunk, vocab) fp32
        norms.append(torch.logsumexp(chunk, dim=-1))
        tops.append(chunk.argmax(dim=-1))
    if not norms:
        return logits.new_zeros(0, dtype=torch.float32), logits.new_zeros(0, dtype=torch.long)
    return torch.cat(norms), torch.cat(tops)
