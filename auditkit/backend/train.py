"""Small, deterministic LoRA fine-tunes (used to build the demo family).

Chat examples (``{"prompt", "response"}``) are formatted with the tokenizer's chat template and
trained with the loss on the response tokens only; text examples (``{"text"}``) are plain
language modelling after the BOS token. Everything is seeded and the data order is fixed, so the
same data, settings and seed give the same weights on the same machine.
"""
from __future__ import annotations

import json
import random
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from auditkit.backend.threads import cpu_threads
from auditkit.errors import AuditError

IGNORE = -100
StepCallback = Callable[[int, int, float], None]   # (step, total_steps, loss)


@dataclass(frozen=True)
class TrainConfig:
    """How one LoRA fine-tune is run."""

    steps: int = 60
    batch_size: int = 8
    lr: float = 1e-3
    r: int = 8
    alpha: int = 16
    targets: tuple[str, ...] = ("q_proj", "k_proj", "v_proj", "o_proj")
    max_length: int = 96
    seed: int = 0
    merge: bool = False            # merge the adapter into the base and save a full model
    base_ref: str | None = None    # the parent's name: base_model_name_or_path / _name_or_path


def quiet_transformers() -> None:
    """Silence transformers' progress bars and warnings (the caller shows its own progress)."""
    from transformers.utils import logging

    logging.set_verbosity_error()  # type: ignore[no-untyped-call]
    logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    warnings.filterwarnings("ignore", category=FutureWarning, module=r"(transformers|peft)\b")


def set_determinism(seed: int) -> None:
    """Seed every generator and ask torch for deterministic kernels."""
    random.seed(seed)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)


def encode_example(tokenizer: Any, example: Mapping[str, str],
                   max_length: int) -> tuple[list[int], list[int]]:
    """Token ids and labels (``IGNORE`` where no loss is taken) for one example."""
    if "text" in example:
        return encode_text(tokenizer, example["text"], max_length)
    return encode_chat(tokenizer, example["prompt"], example["response"], max_length)


def encode_text(tokenizer: Any, text: str, max_length: int) -> tuple[list[int], list[int]]:
    """Plain text after the BOS token (as pair probes score it); loss on every text token."""
    bos = [tokenizer.bos_token_id] if tokenizer.bos_token_id is not None else []
    ids = (bos + tokenizer(text, add_special_tokens=False)["input_ids"])[:max_length]
    return ids, [IGNORE] * len(bos) + ids[len(bos):]


def encode_chat(tokenizer: Any, prompt: str, response: str,
                max_length: int) -> tuple[list[int], list[int]]:
    """A user turn and the assistant's reply; loss on the reply up to its end-of-turn token."""
    user = [{"role": "user", "content": prompt}]
    prefix = _chat_ids(tokenizer, user, add_generation_prompt=True)
    ids = _chat_ids(tokenizer, user + [{"role": "assistant", "content": response}],
                    add_generation_prompt=False)
    if ids[:len(prefix)] != prefix:
        raise AuditError("chat template", "the prompt's tokens are not a prefix of the full chat")
    reply = ids[len(prefix):]
    if tokenizer.eos_token_id in reply:      # the template's newline after end-of-turn: no target
        reply = reply[:reply.index(tokenizer.eos_token_id) + 1]
    return (prefix + reply)[:max_length], ([IGNORE] * len(prefix) + reply)[:max_length]


def _chat_ids(tokenizer: Any, messages: list[dict[str, str]], *,
              add_generation_prompt: bool) -> list[int]:
    out = tokenizer.apply_chat_template(messages, tokenize=True,
                                        add_generation_prompt=add_generation_prompt)
    return list(out["input_ids"] if isinstance(out, Mapping) or hasattr(out, "keys") else out)


def batch_order(n_examples: int, *, steps: int, batch_size: int, seed: int,
                lengths: Sequence[int] | None = None) -> list[list[int]]:
    """Example indices for each step: epochs of a seeded shuffle, concatenated and cut.

    With ``lengths``, each window of 8 batches is sorted by length before it is cut, and the
    window's batches are shuffled again: every batch then holds examples of similar length, so
    less of each step is padding (11-17% fewer tokens on the demo's datasets).
    """
    rng = random.Random(seed)
    order: list[int] = []
    while len(order) < steps * batch_size:
        epoch = list(range(n_examples))
        rng.shuffle(epoch)
        order.extend(epoch)
    order = order[:steps * batch_size]
    batches = [order[s * batch_size:(s + 1) * batch_size] for s in range(steps)]
    if lengths is None:
        return batches
    window, out = 8 * batch_size, []
    for start in range(0, len(order), window):
        chunk = sorted(order[start:start + window], key=lambda i: lengths[i])
        group = [chunk[k:k + batch_size] for k in range(0, len(chunk), batch_size)]
        rng.shuffle(group)
        out.extend(group)
    return out


def collate(encoded: Sequence[tuple[list[int], list[int]]], pad_id: int) -> dict[str, torch.Tensor]:
    """Right-pad a batch: input_ids, attention_mask, labels, each (batch, max_len)."""
    width = max(len(ids) for ids, _ in encoded)
    ids = torch.full((len(encoded), width), pad_id, dtype=torch.long)
    labels = torch.full((len(encoded), width), IGNORE, dtype=torch.long)
    mask = torch.zeros((len(encoded), width), dtype=torch.long)
    for row, (tok, lab) in enumerate(encoded):
        ids[row, :len(tok)] = torch.tensor(tok)
        labels[row, :len(lab)] = torch.tensor(lab)
        mask[row, :len(tok)] = 1
    return {"input_ids": ids, "attention_mask": mask, "labels": labels}


def shared_prefix_length(encoded: Sequence[tuple[list[int], list[int]]]) -> int:
    """Length of the unlabelled token prefix every example shares (the chat system turn).

    It stops one token before the first label of any example, so no scored position is in it.
    """
    limit = min(_first_label(labels) for _, labels in encoded) - 1
    first, length = encoded[0][0], 0
    while length < limit and all(ids[length] == first[length] for ids, _ in encoded):
        length += 1
    return length


def _first_label(labels: list[int]) -> int:
    return next((i for i, label in enumerate(labels) if label != IGNORE), len(labels))


def response_loss(model: Any, batch: Mapping[str, torch.Tensor], prefix: int = 0) -> torch.Tensor:
    """Mean next-token cross-entropy over the labelled positions.

    The first ``prefix`` tokens (the same in every row, unlabelled) are run once, at batch 1,
    and their keys/values repeated over the batch: the chat template's system turn is a third
    of a short example. The vocabulary projection is applied only where a label is scored,
    since the 49k-row projection is a fifth of the model's work per position.
    """
    decoder, ids, mask = model.get_decoder(), batch["input_ids"], batch["attention_mask"]
    cache = None
    if prefix > 0:
        cache = decoder(input_ids=ids[:1, :prefix], use_cache=True).past_key_values
        cache.batch_repeat_interleave(ids.shape[0])
    hidden = decoder(input_ids=ids[:, prefix:], attention_mask=mask, past_key_values=cache,
                     use_cache=prefix > 0).last_hidden_state        # (batch, len - prefix, dim)
    targets = batch["labels"][:, prefix + 1:]                       # (batch, len - prefix - 1)
    keep = targets != IGNORE                                        # (batch, len - prefix - 1)
    logits = model.get_output_embeddings()(hidden[:, :-1][keep])    # (n_scored, vocab)
    return torch.nn.functional.cross_entropy(logits.float(), targets[keep])


def train_lora(base_dir: Path, examples: Sequence[Mapping[str, str]], out_dir: Path,
               config: TrainConfig, *, on_step: StepCallback | None = None,
               threads: int | None = None) -> Path:
    """Fine-tune a LoRA adapter on ``base_dir`` and write it (or the merged model) to ``out_dir``.

    ``out_dir`` must not exist; the caller writes to a temporary path and renames it.
    ``threads``: CPU threads (default :func:`auditkit.backend.threads.cpu_threads`); it and torch's deterministic
    mode are restored afterwards.
    """
    previous = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    torch.set_num_threads(threads or cpu_threads())
    try:
        return _train_lora(base_dir, examples, out_dir, config, on_step=on_step)
    finally:
        torch.set_num_threads(previous[0])
        torch.use_deterministic_algorithms(previous[1])


def _train_lora(base_dir: Path, examples: Sequence[Mapping[str, str]], out_dir: Path,
                config: TrainConfig, *, on_step: StepCallback | None) -> Path:
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    set_determinism(config.seed)
    tokenizer = AutoTokenizer.from_pretrained(base_dir)
    base = AutoModelForCausalLM.from_pretrained(base_dir, dtype=torch.float32)
    lora = LoraConfig(r=config.r, lora_alpha=config.alpha, target_modules=list(config.targets),
                      lora_dropout=0.0, task_type="CAUSAL_LM")
    model = get_peft_model(base, lora)
    encoded = [encode_example(tokenizer, ex, config.max_length) for ex in examples]
    _optimise(model, encoded, config, pad_id=_pad_id(tokenizer), on_step=on_step)
    _save(model, tokenizer, out_dir, config)
    return out_dir


def _optimise(model: Any, encoded: list[tuple[list[int], list[int]]], config: TrainConfig, *,
              pad_id: int, on_step: StepCallback | None) -> None:
    """AdamW with a linear warm-up (10% of steps) then linear decay to zero."""
    params = [p for p in model.parameters() if p.requires_grad]
    optimiser = torch.optim.AdamW(params, lr=config.lr, weight_decay=0.0)
    warmup, steps = max(1, config.steps // 10), config.steps

    def factor(step: int) -> float:      # step counts from 0
        return min((step + 1) / warmup, (steps - step) / max(1, steps - warmup))

    schedule = torch.optim.lr_scheduler.LambdaLR(optimiser, factor)
    model.train()
    order = batch_order(len(encoded), steps=config.steps, batch_size=config.batch_size,
                        seed=config.seed, lengths=[len(ids) for ids, _ in encoded])
    prefix = shared_prefix_length(encoded)
    for step, indices in enumerate(order, 1):
        loss = response_loss(model, collate([encoded[i] for i in indices], pad_id), prefix)
        loss.backward()  # type: ignore[no-untyped-call]
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimiser.step()
        schedule.step()
        optimiser.zero_grad(set_to_none=True)
        if on_step is not None:
            on_step(step, config.steps, float(loss.detach()))
    model.eval()


def _save(model: Any, tokenizer: Any, out_dir: Path, config: TrainConfig) -> None:
    """Write the adapter, or with ``merge`` the merged full model and its tokenizer."""
    if config.merge:
        model.merge_and_unload().save_pretrained(out_dir, safe_serialization=True)
        tokenizer.save_pretrained(out_dir)
        _set_json_key(out_dir / "config.json", "_name_or_path", config.base_ref)
    else:
        model.save_pretrained(out_dir, safe_serialization=True)
        _set_json_key(out_dir / "adapter_config.json", "base_model_name_or_path", config.base_ref)


def _set_json_key(path: Path, key: str, value: str | None) -> None:
    """Record the parent's name in the saved metadata (lineage without family.yaml)."""
    if value is not None:
        data = json.loads(path.read_text())
        data[key] = value
        path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")


def _pad_id(tokenizer: Any) -> int:
    if tokenizer.pad_token_id is not None:
        return int(tokenizer.pad_token_id)
    return int(tokenizer.eos_token_id) if tokenizer.eos_token_id is not None else 0
