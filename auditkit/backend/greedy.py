"""Batched greedy decoding that stops paying for a row once its reply has ended.

``model.generate`` runs every row of a batch until the longest reply ends: on CPU, where the
batch is compute-bound, a row that stopped after 12 of 48 tokens still costs 36 more. Here the
rows that have ended are dropped from the batch (and their rows from the key/value cache)
once at least ``compact_share`` of the live rows are done, so a batch's cost follows the
replies' real lengths. Tokens are the argmax of fp32 logits at the last position, as in
``generate``'s greedy search; left padding with position ids counted from each row's first
real token.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from auditkit.backend.loglik import RunModel


def greedy_decode(run: RunModel, prompts: Sequence[list[int]], adapters: Sequence[str | None],
                  *, max_new: Sequence[int], stop_ids: set[int], pad_id: int,
                  device: torch.device, compact_share: float = 0.25) -> list[list[int]]:
    """The greedy continuation of each prompt: at most ``max_new[i]`` ids, stop id excluded."""
    replies: list[list[int]] = [[] for _ in prompts]
    done = [n <= 0 for n in max_new]
    if all(done):
        return replies
    state = _prefill(run, prompts, adapters, pad_id=pad_id, device=device)
    while True:
        tokens = state.logits.float().argmax(-1).tolist()      # (live,)
        _record(tokens, state.rows, replies, done, max_new, stop_ids)
        ended = {j for j, row in enumerate(state.rows) if done[row]}
        if len(ended) == len(state.rows):
            return replies
        if len(ended) >= compact_share * len(state.rows):
            state.drop(ended)
            tokens = [t for j, t in enumerate(tokens) if j not in ended]
        state.step(run, tokens)


def _record(tokens: list[int], rows: list[int], replies: list[list[int]], done: list[bool],
            max_new: Sequence[int], stop_ids: set[int]) -> None:
    """Append each live, unfinished row's token to its reply and mark the rows that end."""
    for row, token in zip(rows, tokens):
        if done[row]:
            continue          # ended earlier, kept in the batch until the next compaction
        if token in stop_ids:
            done[row] = True
            continue
        replies[row].append(token)
        done[row] = len(replies[row]) >= max_new[row]


class _State:
    """The live rows of a batch: their original indices, mask, next positions, KV cache."""

    def __init__(self, rows: list[int], adapters: list[str | None], mask: torch.Tensor,
                 next_pos: torch.Tensor, cache: Any, logits: torch.Tensor) -> None:
        self.rows, self.adapters = rows, adapters
        self.mask = mask            # (live, seq) 1 = real token
        self.next_pos = next_pos    # (live,) position id of the next token
        self.cache, self.logits = cache, logits

    def drop(self, ended: set[int]) -> None:
        keep = [j for j in range(len(self.rows)) if j not in ended]
        index = torch.tensor(keep, device=self.mask.device)
        self.rows = [self.rows[j] for j in keep]
        self.adapters = [self.adapters[j] for j in keep]
        self.mask, self.next_pos = self.mask[index], self.next_pos[index]
        self.cache.batch_select_indices(index)

    def step(self, run: RunModel, tokens: list[int]) -> None:
        ids = torch.tensor(tokens, device=self.mask.device).unsqueeze(1)       # (live, 1)
        self.mask = torch.cat([self.mask, torch.ones_like(ids)], dim=1)
        keep = torch.ones_like(ids, dtype=torch.bool)
        self.logits, self.cache = run(ids, self.mask, self.adapters, keep,
                                      position_ids=self.next_pos.unsqueeze(1),
                                      past=self.cache, use_cache=True)
        self.next_pos = self.next_pos + 1


def _prefill(run: RunModel, prompts: Sequence[list[int]], adapters: Sequence[str | None], *,
             pad_id: int, device: torch.device) -> _State:
    width = max(len(p) for p in prompts)
    ids = torch.tensor([[pad_id] * (width - len(p)) + list(p) for p in prompts], device=device)
    mask = torch.tensor([[0] * (width - len(p)) + [1] * len(p) for p in prompts], device=device)
    positions = (mask.cumsum(-1) - 1).clamp(min=0)            # (batch, width)
    keep = torch.zeros_like(mask, dtype=torch.bool)
    keep[:, -1] = True                                         # the last prompt token predicts
    logits, cache = run(ids, mask, list(adapters), keep, position_ids=positions, use_cache=True)
    return _State(list(range(len(prompts))), list(adapters), mask, positions[:, -1] + 1, cache,
                  logits)
