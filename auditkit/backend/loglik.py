"""Log-likelihood batches: the plain route and the shared-context route.

Both call ``run`` (see :class:`RunModel`), which returns logits only at the positions a boolean
``keep`` mask selects, flattened row by row: (n_kept, vocab). Scores are reduced from those
rows in fp32 log-softmax, a few rows at a time so memory stays bounded.

Plain route: each request is one right-padded row, input = (context + continuation)[:-1]; the
last len(continuation) positions predict the continuation.

Shared route: the rows of a batch that share (adapter, context) are one group. The contexts are
encoded once, left-padded so that every context ends in the last column, whose logits predict
each continuation's first token; the key/value cache rows are then repeated, one per
continuation, and the continuations (minus their last token) run on top of it, right-padded,
with position ids continuing from each context's true length.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import torch

from auditkit.backend.tokens import EncodedPair

LOGSOFTMAX_ELEMENTS = 1 << 25   # fp32 log-softmax at most this many (rows x vocab) at a time


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


def group_runs(units: Sequence[Unit]) -> list[list[int]]:
    """Consecutive indices of ``units`` that share (adapter, context)."""
    runs: list[list[int]] = []
    for i, unit in enumerate(units):
        prev = units[runs[-1][0]] if runs else None
        if prev is not None and (prev.adapter, prev.pair.context) == (unit.adapter, unit.pair.context):
            runs[-1].append(i)
        else:
            runs.append([i])
    return runs


def shared_batch(units: Sequence[Unit], run: RunModel, *, pad_id: int,
                 device: torch.device) -> list[tuple[float, bool]]:
    """Score ``units`` (sharing contexts in consecutive runs) with one KV cache per context."""
    runs = group_runs(units)
    group_of = [g for g, run_ in enumerate(runs) for _ in run_]   # unit -> its group
    contexts = [list(units[r[0]].pair.context) for r in runs]
    ctx_ids, ctx_mask = _left_pad(contexts, pad_id, device)       # (groups, ctx_width)
    position_ids = (ctx_mask.cumsum(-1) - 1).clamp(min=0)
    keep = torch.zeros_like(ctx_mask, dtype=torch.bool)
    keep[:, -1] = True                                            # each context's last token
    first, cache = run(ctx_ids, ctx_mask, [units[r[0]].adapter for r in runs], keep,
                       position_ids=position_ids, use_cache=True)  # (groups, vocab)
    more = [k for k, u in enumerate(units) if len(u.pair.continuation) > 1]
    rest = _continuations(units, more, group_of, contexts, ctx_mask, cache, run, pad_id, device)
    logits = torch.cat([first, rest]) if rest is not None else first
    rows, offset = [], len(runs)
    for k, unit in enumerate(units):   # unit k's tokens: group's last-context row, then its own
        n_rest = len(unit.pair.continuation) - 1
        rows += [group_of[k]] + list(range(offset, offset + n_rest))
        offset += n_rest
    targets = [t for u in units for t in u.pair.continuation]
    return reduce_scores(logits, rows, targets, [len(u.pair.continuation) for u in units])


def _continuations(units: Sequence[Unit], more: list[int], group_of: list[int],
                   contexts: list[list[int]], ctx_mask: torch.Tensor, cache: Any, run: RunModel,
                   pad_id: int, device: torch.device) -> torch.Tensor | None:
    """Logits (sum over ``more`` of len(continuation) - 1, vocab) on top of the cached contexts."""
    if not more:
        return None
    select = torch.tensor([group_of[k] for k in more], device=device)
    cache.batch_select_indices(select)                             # one cache row per continuation
    seqs = [list(units[k].pair.continuation[:-1]) for k in more]
    width = max(len(s) for s in seqs)
    ids = torch.tensor([s + [pad_id] * (width - len(s)) for s in seqs], device=device)
    cont_mask = torch.tensor([[1] * len(s) + [0] * (width - len(s)) for s in seqs], device=device)
    mask = torch.cat([ctx_mask[select], cont_mask], dim=1)        # (rows, ctx_width + width)
    ctx_len = torch.tensor([len(contexts[group_of[k]]) for k in more], device=device)
    position_ids = ctx_len[:, None] + torch.arange(width, device=device)[None, :]
    logits, _ = run(ids, mask, [units[k].adapter for k in more], cont_mask.bool(),
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
    index = torch.tensor(list(rows), device=logits.device) if rows is not None else None
    step = max(1, LOGSOFTMAX_ELEMENTS // logits.shape[-1])
    logprobs, greedy = [], []
    for start in range(0, len(target), step):
        chunk = logits[start:start + step] if index is None else logits[index[start:start + step]]
        logp = torch.log_softmax(chunk.float(), dim=-1)             # (chunk, vocab) fp32
        tgt = target[start:start + step]
        logprobs.append(logp.gather(1, tgt[:, None])[:, 0])
        greedy.append(logp.argmax(dim=-1) == tgt)
    token_lp = torch.cat(logprobs).double().cpu().numpy()
    token_ok = torch.cat(greedy).cpu().numpy()
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
    sums = np.add.reduceat(token_lp, starts)
    alls = np.logical_and.reduceat(token_ok, starts)
    return [(float(s), bool(a)) for s, a in zip(sums, alls)]
