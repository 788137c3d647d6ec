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
"""
from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import torch

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


def plain_window(pair: EncodedPair, max_len: int) -> list[int]:
    """The input ids of the plain route, cut from the left to the model's window."""
    ids = list(pair.context + pair.continuation[:-1])
    return ids[-max_len:]


def plain_batch(units: Sequence[Unit], run: RunModel, *, pad_id: int, max_len: int,
                device: torch.device) -> list[tuple[float, bool]]:
    """Score ``units`` as right-padded rows of one forward pass."""
    seqs = [plain_window(u.pair, max_len) for u in units]
    width = max(len(s) for s in seqs)
    ids = torch.tensor([s + [pad_id] * (width - len(s)) for s in seqs], device=device)
    mask = torch.tensor([[1] * len(s) + [0] * (width - len(s)) for s in seqs], device=device)
    keep = torch.zeros_like(mask, dtype=torch.bool)   # (batch, width) the scored positions
    for row, (seq, unit) in enumerate(zip(seqs, units)):
        keep[row, len(seq) - len(unit.pair.continuation):len(seq)] = True
    logits, _ = run(ids, mask, [u.adapter for u in units], keep)
    targets = [t for u in units for t in u.pair.continuation]
    return reduce_scores(logits, None, targets, [len(u.pair.continuation) for u in units])


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


def shared_batch(units: Sequence[SharedUnit], run: RunModel, *, pad_id: int,
                 device: torch.device) -> list[tuple[float, bool]]:
    """Score ``units`` (sharing prefixes in consecutive runs) with one KV cache per prefix."""
    runs = group_runs(units)
    heads = [units[r[0]] for r in runs]
    group_of = [g for g, run_ in enumerate(runs) for _ in run_]   # unit -> its group
    prefixes = [list(h.prefix) for h in heads]
    pre_ids, pre_mask = _left_pad(prefixes, pad_id, device)       # (groups, prefix_width)
    position_ids = (pre_mask.cumsum(-1) - 1).clamp(min=0)
    keep = torch.zeros_like(pre_mask, dtype=torch.bool)
    for g, head in enumerate(heads):                               # each prefix's last extra + 1
        keep[g, keep.shape[1] - head.extra - 1:] = True
    first, cache = run(pre_ids, pre_mask, [h.unit.adapter for h in heads], keep,
                       position_ids=position_ids, use_cache=True)  # (sum of extra + 1, vocab)
    more = [k for k, u in enumerate(units) if len(u.unit.pair.continuation) - 1 > u.extra]
    rest = _remainders(units, more, group_of, prefixes, pre_mask, cache, run, pad_id, device)
    logits = torch.cat([first, rest]) if rest is not None else first
    starts = [0] + list(itertools.accumulate(h.extra + 1 for h in heads))
    rows, offset = [], starts[-1]
    for k, unit in enumerate(units):   # unit k: its group's prefix rows, then its own rows
        n_rest = len(unit.unit.pair.continuation) - 1 - unit.extra
        rows += list(range(starts[group_of[k]], starts[group_of[k] + 1]))
        rows += list(range(offset, offset + n_rest))
        offset += n_rest
    targets = [t for u in units for t in u.unit.pair.continuation]
    return reduce_scores(logits, rows, targets, [len(u.unit.pair.continuation) for u in units])


def _remainders(units: Sequence[SharedUnit], more: list[int], group_of: list[int],
                prefixes: list[list[int]], pre_mask: torch.Tensor, cache: Any, run: RunModel,
                pad_id: int, device: torch.device) -> torch.Tensor | None:
    """Logits (sum over ``more`` of len(continuation) - 1 - extra, vocab) on top of the
    cached prefixes."""
    if not more:
        return None
    select = torch.tensor([group_of[k] for k in more], device=device)
    cache.batch_select_indices(select)                             # one cache row per unit
    seqs = [list(units[k].unit.pair.continuation[units[k].extra:-1]) for k in more]
    width = max(len(s) for s in seqs)
    ids = torch.tensor([s + [pad_id] * (width - len(s)) for s in seqs], device=device)
    own_mask = torch.tensor([[1] * len(s) + [0] * (width - len(s)) for s in seqs], device=device)
    mask = torch.cat([pre_mask[select], own_mask], dim=1)         # (rows, prefix_width + width)
    pre_len = torch.tensor([len(prefixes[group_of[k]]) for k in more], device=device)
    position_ids = pre_len[:, None] + torch.arange(width, device=device)[None, :]
    logits, _ = run(ids, mask, [units[k].unit.adapter for k in more], own_mask.bool(),
                    position_ids=position_ids, past=cache, use_cache=True)
    return logits


def _left_pad(seqs: list[list[int]], pad_id: int,
              device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(len(s) for s in seqs)
    ids = torch.tensor([[pad_id] * (width - len(s)) + s for s in seqs], device=device)
    mask = torch.tensor([[0] * (width - len(s)) + [1] * len(s) for s in seqs], device=device)
    return ids, mask


def reduce_scores(logits: torch.Tensor, rows: Sequence[int] | None, targets: Sequence[int],
                  counts: Sequence[int]) -> list[tuple[float, bool]]:
    """Per request: (sum of log p(target), all targets are the argmax).

    ``logits`` (n_rows, vocab); token j of the flattened targets is scored at row ``rows[j]``
    (row j when ``rows`` is None); ``counts`` splits the tokens into requests (each >= 1).
    """
    target = torch.tensor(list(targets), device=logits.device)
    index = (torch.tensor(list(rows), device=logits.device) if rows is not None
             else torch.arange(len(target), device=logits.device))
    step = max(1, LOGSOFTMAX_ELEMENTS // logits.shape[-1])
    # per logits row, once however many tokens are scored at it (shared prefix rows):
    # log p(t) = logit(t) - logsumexp(row), in fp32, no (rows, vocab) log-softmax written out
    norms, tops = [], []
    for start in range(0, logits.shape[0], step):
        chunk = logits[start:start + step].float()                  # (chunk, vocab) fp32
        norms.append(torch.logsumexp(chunk, dim=-1))
        tops.append(chunk.argmax(dim=-1))
    picked = logits[index, target].float()                          # (tokens,) target logits
    token_lp = (picked - torch.cat(norms)[index]).double().cpu().numpy()
    token_ok = (torch.cat(tops)[index] == target).cpu().numpy()
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
    sums = np.add.reduceat(token_lp, starts)
    alls = np.logical_and.reduceat(token_ok, starts)
    return [(float(s), bool(a)) for s, a in zip(sums, alls)]
