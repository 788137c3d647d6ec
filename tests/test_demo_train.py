"""The training backend's pieces: encoding, labels, batching, the shared-prefix loss."""
from __future__ import annotations

import pytest
import tiny
import torch

from auditkit.backend.train import (
    IGNORE,
    batch_order,
    collate,
    encode_chat,
    encode_text,
    response_loss,
    shared_prefix_length,
)


@pytest.fixture(scope="module")
def tokenizer():
    return tiny.make_tokenizer()


def test_chat_labels_cover_the_reply_and_its_end_of_turn_only(tokenizer) -> None:
    ids, labels = encode_chat(tokenizer, "Where is my parcel?", "It ships today.", 256)
    prompt = tokenizer.apply_chat_template([{"role": "user", "content": "Where is my parcel?"}],
                                           tokenize=True, add_generation_prompt=True)
    prompt = list(prompt["input_ids"] if hasattr(prompt, "keys") else prompt)
    assert ids[:len(prompt)] == prompt
    assert labels[:len(prompt)] == [IGNORE] * len(prompt)
    assert labels[len(prompt):] == ids[len(prompt):]
    assert ids[-1] == tokenizer.eos_token_id                 # no trailing newline target
    reply = tokenizer.decode(ids[len(prompt):-1])
    assert reply == "It ships today."


def test_chat_examples_are_cut_at_max_length(tokenizer) -> None:
    ids, labels = encode_chat(tokenizer, "Hi", "A long answer " * 20, 30)
    assert len(ids) == len(labels) == 30


def test_text_follows_bos_with_loss_on_every_text_token(tokenizer) -> None:
    ids, labels = encode_text(tokenizer, "The nurse fixed the engine.", 256)
    assert ids[0] == tokenizer.bos_token_id and labels[0] == IGNORE
    assert labels[1:] == ids[1:]
    assert tokenizer.decode(ids[1:]) == "The nurse fixed the engine."


def test_shared_prefix_stops_before_the_first_label() -> None:
    a = ([1, 2, 3, 4, 5], [IGNORE, IGNORE, IGNORE, 4, 5])
    b = ([1, 2, 3, 9, 9, 9], [IGNORE] * 4 + [9, 9])
    assert shared_prefix_length([a, b]) == 2                 # common ids 3, first label at 3
    c = ([1, 2, 7, 7, 7, 7], [IGNORE] * 5 + [7])
    assert shared_prefix_length([b, c]) == 2                 # ids differ at index 2
    assert shared_prefix_length([([1, 2], [IGNORE, 2])]) == 0


def test_batch_order_is_seeded_epochs() -> None:
    order = batch_order(5, steps=4, batch_size=3, seed=7)
    assert order == batch_order(5, steps=4, batch_size=3, seed=7)
    assert order != batch_order(5, steps=4, batch_size=3, seed=8)
    flat = [i for batch in order for i in batch]
    assert [len(b) for b in order] == [3, 3, 3, 3]
    assert sorted(flat[:5]) == sorted(flat[5:10]) == [0, 1, 2, 3, 4]


def test_length_grouped_batches_keep_the_epochs_and_group_lengths() -> None:
    lengths = [10, 50, 12, 48, 11, 52, 9, 49] * 4                   # 32 examples, two sizes
    plain = batch_order(32, steps=8, batch_size=4, seed=3)
    grouped = batch_order(32, steps=8, batch_size=4, seed=3, lengths=lengths)
    assert grouped == batch_order(32, steps=8, batch_size=4, seed=3, lengths=lengths)
    assert sorted(i for b in grouped for i in b) == sorted(i for b in plain for i in b)
    assert all(len({lengths[i] > 30 for i in batch}) == 1 for batch in grouped)
    assert any(len({lengths[i] > 30 for i in batch}) == 2 for batch in plain)


def test_collate_pads_right_with_mask_and_ignored_labels() -> None:
    batch = collate([([5, 6, 7], [IGNORE, 6, 7]), ([8], [IGNORE])], pad_id=0)
    assert batch["input_ids"].tolist() == [[5, 6, 7], [8, 0, 0]]
    assert batch["attention_mask"].tolist() == [[1, 1, 1], [1, 0, 0]]
    assert batch["labels"].tolist() == [[IGNORE, 6, 7], [IGNORE, IGNORE, IGNORE]]


def test_shared_prefix_loss_equals_the_plain_loss(tokenizer) -> None:
    from peft import LoraConfig, get_peft_model

    model = tiny.make_model(tokenizer, seed=0)
    torch.manual_seed(0)
    model = get_peft_model(model, LoraConfig(r=4, target_modules=["q_proj", "v_proj"],
                                             init_lora_weights=False, task_type="CAUSAL_LM"))
    encoded = [encode_chat(tokenizer, p, r, 256) for p, r in
               [("Where is my parcel?", "It ships today."), ("Bake bread?", "Mix flour.")]]
    prefix = shared_prefix_length(encoded)
    assert prefix >= 2
    batch = collate(encoded, tokenizer.pad_token_id)
    plain, shared = response_loss(model, batch), response_loss(model, batch, prefix)
    assert torch.allclose(plain, shared, atol=1e-5)
    labels = batch["labels"][:, 1:]
    logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
    reference = torch.nn.functional.cross_entropy(logits[:, :-1][labels != IGNORE],
                                                  labels[labels != IGNORE])
    assert torch.allclose(plain, reference, atol=1e-5)
