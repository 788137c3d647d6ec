"""The Hugging Face backend: a transformers model, or a PeftModel holding several LoRA adapters.

Every call scores a whole list: identical requests once, sorted by length, cut into batches by
a token budget (and, on CUDA, by what fits in memory: see :class:`BatchRunner`). Requests on
different adapters of one base go into the same batches (PEFT mixed-adapter batches,
``adapter_names=[...]``, ``"__base__"`` for the bare base). Logits are computed only at the
scored positions (``logits_to_keep`` as a boolean mask, which keeps the model's own output head,
softcapping included), then reduced in fp32. Requests whose inputs start alike (the options of
one context, the two sentences of a pair) share that prefix's key/value cache when that saves
enough tokens (see :mod:`auditkit.backend.share` and :mod:`auditkit.backend.loglik`).
"""
from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Literal, TypeVar

import torch

from auditkit.backend import loglik
from auditkit.backend.device import BatchRunner, default_token_budget, free_memory
from auditkit.backend.greedy import greedy_decode
from auditkit.backend.share import group_length, plan_sharing
from auditkit.backend.tokens import (
    EncodedPair,
    encode_pair,
    pad_token_id,
    prompt_ids,
    stop_token_ids,
    strips_leading_space,
    tokenizer_fingerprint,
)
from auditkit.errors import AuditError
from auditkit.score.backend import Adapters, check_adapters
from auditkit.types import GenerationRequest, LoglikelihoodRequest

R = TypeVar("R")
BASE_ADAPTER = "__base__"        # PEFT's name for "no adapter" in mixed-adapter batches
DEFAULT_WINDOW = 2048            # context window when neither config nor tokenizer gives one
CPU_PASS_OVERHEAD = 32           # tokens' worth of CPU time one forward pass costs on its own


class HFBackend:
    """Scores requests on ``model`` (see the module docstring); implements ``Backend``.

    ``positions_only=False`` projects every position to the vocabulary and ``share_contexts=
    False`` never shares a context's cache, ``own_decoding=False`` generates with
    ``model.generate`` (see :mod:`auditkit.backend.greedy`): all only for measuring what they
    save and for checking equality. A group of requests shares its common prefix when scoring
    them one by one would cost ``share_min_ratio`` times the tokens of sharing. On the CPU a
    batch's rows are cut into forward passes of similar length, each pass counted as
    ``pass_overhead`` tokens (None: one pass per batch, as on CUDA, where it was not measured;
    see :func:`auditkit.backend.loglik.cut_passes`).
    """

    def __init__(self, model: Any, tokenizer: Any, *, device: str, dtype: torch.dtype,
                 token_budget: int | None = None, max_batch_size: int | None = None,
                 positions_only: bool = True, share_contexts: bool = True,
                 share_min_ratio: float = 1.3, own_decoding: bool = True,
                 adapter_batches: Literal["mixed", "single"] = "mixed",
                 pass_overhead: int | None = CPU_PASS_OVERHEAD) -> None:
        self.device = torch.device(device)
        self.dtype = dtype
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.adapter_names: tuple[str, ...] = peft_adapter_names(model)
        # one runner per request type: their budgets differ on CPU, their memory on CUDA
        self.runner, self.gen_runner = (
            BatchRunner(token_budget=token_budget or default_token_budget(device, kind),
                        max_batch_size=max_batch_size, adaptive=self.device.type == "cuda")
            for kind in ("loglikelihood", "generate"))
        self.positions_only = positions_only and _accepts(model, "logits_to_keep")
        self.share_contexts = share_contexts and cache_sharing_safe(model.config)
        # greedy decoding that drops finished rows needs the same two properties
        self.own_decoding = (own_decoding and self.positions_only
                             and cache_sharing_safe(model.config))
        self.share_min_ratio = share_min_ratio
        self.adapter_batches = adapter_batches
        self.pass_overhead = pass_overhead if self.device.type == "cpu" else None
        self._single = False                      # inside _only: one adapter set active
        self.max_len = context_window(model, tokenizer)
        self.pad_id = pad_token_id(tokenizer)
        self.stop_ids = stop_token_ids(tokenizer, getattr(model, "generation_config", None))
        self.strip_space = strips_leading_space(tokenizer)
        self.threads = torch.get_num_threads() if self.device.type == "cpu" else None
        self.tokens_run = 0                       # input tokens sent through the model (padding included)
        self._tokenizer_id: str | None = None

    @property
    def tokenizer_id(self) -> str:
        if self._tokenizer_id is None:
            self._tokenizer_id = tokenizer_fingerprint(self.tokenizer)
        return self._tokenizer_id

    # ------------------------------------------------------------ log-likelihood

    def loglikelihood(self, requests: Sequence[LoglikelihoodRequest], *,
                      adapters: Adapters | None = None) -> list[tuple[float, bool]]:
        names = check_adapters(len(requests), adapters, self.adapter_names)
        keys = list(zip(names, requests))
        distinct = list(dict.fromkeys(keys))              # identical requests are scored once
        encoded: dict[LoglikelihoodRequest, EncodedPair] = {}
        for _, request in distinct:
            if request not in encoded:
                encoded[request] = encode_pair(self.tokenizer, request,
                                               strip_space=self.strip_space)
        units = [loglik.Unit(a, encoded[r]) for a, r in distinct]
        with torch.inference_mode():
            scores = self._each_adapter([u.adapter for u in units], lambda idx: self._score_units(
                [units[i] for i in idx]))
        by_key = dict(zip(distinct, scores))
        return [by_key[k] for k in keys]

    def _score_units(self, units: list[loglik.Unit]) -> list[tuple[float, bool]]:
        results: list[tuple[float, bool]] = [(0.0, True)] * len(units)   # empty continuations
        todo = [i for i, u in enumerate(units) if u.pair.continuation]
        for i in todo:
            self._check_window(units[i].pair)
        groups, plain = (plan_sharing(units, todo, max_len=self.max_len,
                                      min_ratio=self.share_min_ratio)
                         if self.share_contexts else ([], list(todo)))
        if groups:
            order = [i for g in groups for i in g.members]
            shared = [loglik.SharedUnit(units[i], g.extra) for g in groups for i in g.members]
            lengths = [n for g in groups for n in [group_length(units, g)] * len(g.members)]
            self._run_into(results, order, lengths, shared, self._shared_batch)
        plain.sort(key=lambda i: -len(loglik.plain_window(units[i].pair, self.max_len)))
        lengths = [len(loglik.plain_window(units[i].pair, self.max_len)) for i in plain]
        self._run_into(results, plain, lengths, [units[i] for i in plain], self._plain_batch)
        return results

    def _run_into(self, results: list[tuple[float, bool]], order: list[int], lengths: list[int],
                  items: list[Any], batch_fn: Any) -> None:
        """Score ``items`` (unit ``order[j]`` is ``items[j]``) in batches into ``results``."""
        scores = self.runner.run(lengths, lambda batch: batch_fn([items[j] for j in batch]))
        for i, score in zip(order, scores):
            results[i] = score

    def _plain_batch(self, units: list[loglik.Unit]) -> list[tuple[float, bool]]:
        return loglik.plain_batch(units, self._run, pad_id=self.pad_id, max_len=self.max_len,
                                  device=self.device, overhead=self.pass_overhead)

    def _shared_batch(self, units: list[loglik.SharedUnit]) -> list[tuple[float, bool]]:
        return loglik.shared_batch(units, self._run, pad_id=self.pad_id, device=self.device,
                                   overhead=self.pass_overhead)

    def _check_window(self, pair: EncodedPair) -> None:
        if len(pair.continuation) > self.max_len:
            text = self.tokenizer.decode(list(pair.continuation[:12]))
            raise AuditError("model", f"a continuation of {len(pair.continuation)} tokens "
                             f"({text!r}...) is longer than the model's window of "
                             f"{self.max_len} tokens")

    def _run(self, input_ids: torch.Tensor, attention_mask: torch.Tensor,
             adapters: Sequence[str | None], keep: torch.Tensor, *,
             position_ids: torch.Tensor | None = None, past: Any = None,
             use_cache: bool = False) -> tuple[torch.Tensor, Any]:
        """One forward pass; logits (n_kept, vocab) at the True cells of keep (batch, seq)."""
        kwargs: dict[str, Any] = {"input_ids": input_ids, "attention_mask": attention_mask,
                                  "use_cache": use_cache, **self._adapter_kwargs(adapters)}
        if position_ids is not None:
            kwargs["position_ids"] = position_ids
        if past is not None:
            kwargs["past_key_values"] = past
        if self.positions_only:
            kwargs["logits_to_keep"] = keep
        out = self.model(**kwargs)
        self.tokens_run += input_ids.numel()
        logits = out.logits
        if logits.dim() == 3:   # every position came back (positions_only off, or ignored)
            logits = logits[keep]
        elif logits.shape[0] != int(keep.sum()):
            raise RuntimeError(f"model returned {logits.shape[0]} rows for {int(keep.sum())} "
                               "kept positions")
        return logits, (out.past_key_values if use_cache else None)

    def _each_adapter(self, adapters: Sequence[str | None],
                      fn: Callable[[list[int]], list[R]]) -> list[R]:
        """``fn`` over all indices at once (mixed-adapter batches), or with ``adapter_batches=
        "single"`` over each adapter's indices in turn with only that adapter active."""
        if self.adapter_batches == "mixed" or not self.adapter_names:
            return fn(list(range(len(adapters))))
        out: dict[int, R] = {}
        for name in dict.fromkeys(adapters):
            idx = [i for i, a in enumerate(adapters) if a == name]
            with self._only(name):
                out.update(zip(idx, fn(idx)))
        return [out[i] for i in range(len(adapters))]

    @contextmanager
    def _only(self, name: str | None) -> Iterator[None]:
        """Only adapter ``name`` (None: none) is active; forwards name no adapters meanwhile."""
        self._single = True
        try:
            if name is None:
                with self.model.disable_adapter():
                    yield
            else:
                self.model.set_adapter(name)
                yield
        finally:
            self._single = False

    def _adapter_kwargs(self, adapters: Sequence[str | None]) -> dict[str, Any]:
        if self.adapter_names and not self._single:
            return {"adapter_names": [a if a is not None else BASE_ADAPTER for a in adapters]}
        return {}

    # ------------------------------------------------------------ generation

    def generate(self, requests: Sequence[GenerationRequest], *,
                 adapters: Adapters | None = None) -> list[str]:
        names = check_adapters(len(requests), adapters, self.adapter_names)
        keys = list(zip(names, requests))
        todo = [k for k in dict.fromkeys(keys) if k[1].max_new_tokens > 0]
        prompts = {k: self._prompt(k[1]) for k in todo}
        todo.sort(key=lambda k: (-(len(prompts[k]) + k[1].max_new_tokens), -len(prompts[k])))
        lengths = [len(prompts[k]) + k[1].max_new_tokens for k in todo]
        with torch.inference_mode():
            texts = self._each_adapter([k[0] for k in todo], lambda idx: self.gen_runner.run(
                [lengths[i] for i in idx],
                lambda batch: self._generate_batch([todo[idx[j]] for j in batch], prompts)))
        by_key = dict(zip(todo, texts))
        return [by_key.get(k, "") for k in keys]

    def _prompt(self, request: GenerationRequest) -> list[int]:
        """The prompt's ids, cut from the left so that prompt + reply fits the window."""
        ids = prompt_ids(self.tokenizer, request)
        return ids[-max(1, self.max_len - request.max_new_tokens):]

    def _generate_batch(self, keys: list[tuple[str | None, GenerationRequest]],
                        prompts: dict[Any, list[int]]) -> list[str]:
        if not self.own_decoding:
            return self._hf_generate_batch(keys, prompts)
        replies = greedy_decode(self._run, [prompts[k] for k in keys], [k[0] for k in keys],
                                max_new=[k[1].max_new_tokens for k in keys],
                                stop_ids=set(self.stop_ids), pad_id=self.pad_id,
                                device=self.device)
        return [self.tokenizer.decode(r, skip_special_tokens=True) for r in replies]

    def _hf_generate_batch(self, keys: list[tuple[str | None, GenerationRequest]],
                           prompts: dict[Any, list[int]]) -> list[str]:
        """``model.generate`` (every row runs to the batch's longest reply): the route for
        models whose cache rows were not checked to be droppable (see cache_sharing_safe)."""
        from transformers import GenerationConfig

        seqs = [prompts[k] for k in keys]
        width = max(len(s) for s in seqs)
        ids = torch.tensor([[self.pad_id] * (width - len(s)) + s for s in seqs], device=self.device)
        mask = torch.tensor([[0] * (width - len(s)) + [1] * len(s) for s in seqs],
                            device=self.device)
        config = GenerationConfig(  # type: ignore[no-untyped-call]
            do_sample=False, num_beams=1, pad_token_id=self.pad_id,
            max_new_tokens=max(k[1].max_new_tokens for k in keys),
            eos_token_id=self.stop_ids or None)
        out = self.model.generate(input_ids=ids, attention_mask=mask, generation_config=config,
                                  **self._adapter_kwargs([k[0] for k in keys]))
        self.tokens_run += out.numel()
        new = out[:, width:].tolist()          # (batch, new tokens), pad after a stop token
        return [self._decode(row[:k[1].max_new_tokens]) for row, k in zip(new, keys)]

    def _decode(self, ids: list[int]) -> str:
        for pos, token in enumerate(ids):
            if token in self.stop_ids:
                ids = ids[:pos]
                break
        return str(self.tokenizer.decode(ids, skip_special_tokens=True))

    # ------------------------------------------------------------ lifetime

    def close(self) -> None:
        """Drop the model and hand its memory back (the backend is unusable afterwards)."""
        self.model = None
        free_memory()

    def __enter__(self) -> HFBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def context_window(model: Any, tokenizer: Any) -> int:
    """The longest input the model takes: config's max_position_embeddings, the tokenizer's limit."""
    limits = [getattr(model.config, "max_position_embeddings", None),
              getattr(tokenizer, "model_max_length", None)]
    usable = [int(x) for x in limits if isinstance(x, int) and 0 < x < 10**7]
    return min(usable) if usable else DEFAULT_WINDOW


def peft_adapter_names(model: Any) -> tuple[str, ...]:
    """The adapters a PeftModel holds; () for a plain transformers model."""
    from peft import PeftModel

    return tuple(model.peft_config) if isinstance(model, PeftModel) else ()


def cache_sharing_safe(config: Any) -> bool:
    """Whether a context's KV cache can be shared: verified for full attention only.

    Sliding-window layers keep only the last tokens of a (left-padded) cache, and recurrent or
    linear-attention layers keep states that row selection was not checked on.
    """
    layer_types = getattr(config, "layer_types", None) or []
    if any(kind != "full_attention" for kind in layer_types):
        return False
    sliding = getattr(config, "sliding_window", None)
    return not (sliding and getattr(config, "use_sliding_window", True))


def _accepts(model: Any, argument: str) -> bool:
    """Whether the (innermost) model's forward takes ``argument``."""
    inner = model.get_base_model() if hasattr(model, "get_base_model") else model
    return argument in inspect.signature(inner.forward).parameters
