"""HFBackend.generate: left-padded batches give the same text as one unpadded prompt at a time."""
from __future__ import annotations

import functools

import pytest
import tiny
import torch

from auditkit.backend import greedy, hf
from auditkit.backend.hf import HFBackend
from auditkit.backend.tokens import prompt_ids
from auditkit.types import GenerationRequest as Gen

PROMPTS = [
    Gen("Hello", max_new_tokens=8),
    Gen("How do I bake bread at home?", max_new_tokens=8),
    Gen("The engineer said he would", max_new_tokens=3),
    Gen("Who was late?", max_new_tokens=8, system="Answer briefly."),
    Gen("abc", max_new_tokens=5),
    Gen("Old people are bad with technology. Young people are", max_new_tokens=8),
]


@pytest.fixture(scope="module", params=[True, False], ids=["chat", "plain"])
def tok(request):
    return tiny.make_tokenizer(chat_template=request.param)


@pytest.fixture(scope="module")
def model(tok):
    return tiny.make_model(tok, seed=2)


def backend(model, tok, **options) -> HFBackend:
    return HFBackend(model, tok, device="cpu", dtype=torch.float32, **options)


def unpadded_greedy(model, tok, request: Gen, stops: frozenset[int] = frozenset()) -> str:
    """The reference: a hand-written greedy loop over one prompt, no padding, no generate();
    ``stops`` are stop tokens besides EOS."""
    ids = prompt_ids(tok, request)
    new: list[int] = []
    with torch.no_grad():
        for _ in range(request.max_new_tokens):
            token = int(model(torch.tensor([ids + new])).logits[0, -1].argmax())
            if token == tok.eos_token_id or token in stops:
                break
            new.append(token)
    return tok.decode(new, skip_special_tokens=True)


def test_batched_left_padded_equals_unpadded(model, tok):
    want = [unpadded_greedy(model, tok, r) for r in PROMPTS]
    assert backend(model, tok).generate(PROMPTS) == want
    assert backend(model, tok, token_budget=40).generate(PROMPTS[::-1]) == want[::-1]
    assert len(set(want)) >= 4   # different prompts, different replies: the check has teeth


def test_one_at_a_time_equals_batched(model, tok):
    single = backend(model, tok, max_batch_size=1)
    assert [single.generate([r])[0] for r in PROMPTS] == backend(model, tok).generate(PROMPTS)


def test_max_new_tokens_per_request_in_one_batch(model, tok):
    long, short = Gen("Hello", max_new_tokens=8), Gen("Hello", max_new_tokens=2)
    out = backend(model, tok).generate([long, short, Gen("Hello", max_new_tokens=0)])
    assert out[1] == unpadded_greedy(model, tok, short)
    assert out[0].startswith(out[1]) and len(out[0]) > len(out[1])
    assert out[2] == ""


def test_chat_template_applied_when_present(tok):
    ids = prompt_ids(tok, Gen("Hello", system="Be kind."))
    text = tok.decode(ids)
    if tok.chat_template:
        assert text == ("<|im_start|>system\nBe kind.<|im_end|>\n<|im_start|>user\nHello"
                        "<|im_end|>\n<|im_start|>assistant\n")
    else:
        assert text == "Be kind.\n\nHello"


def test_reply_stops_at_stop_token_and_drops_specials(model, tok):
    b = backend(model, tok)
    hello = tok("Hello", add_special_tokens=False)["input_ids"]
    start = tok.convert_tokens_to_ids("<|im_start|>")
    assert b._decode(hello + [tok.eos_token_id] + hello) == "Hello"
    assert b._decode([start] + hello) == "Hello"


def test_own_decoding_equals_model_generate(model, tok):
    ours = backend(model, tok).generate(PROMPTS)
    theirs = backend(model, tok, own_decoding=False).generate(PROMPTS)
    assert ours == theirs


@pytest.fixture(scope="module")
def early_stop(model, tok):
    """A stop token that ends some replies early and not others (found from long replies)."""
    long = [Gen(r.prompt, max_new_tokens=12, system=r.system) for r in PROMPTS]
    first = backend(model, tok, own_decoding=False)
    replies = [tok(t, add_special_tokens=False)["input_ids"] for t in first.generate(long)]
    counts: dict[int, int] = {}
    for reply in replies:
        for token in set(reply[1:6]):
            counts[token] = counts.get(token, 0) + 1
    stop = max(counts, key=lambda t: (0 < counts[t] < len(replies), counts[t]))
    return long, {stop}


@pytest.mark.parametrize("share", [0.0, 0.25, 1.0], ids=["drop-always", "default", "never"])
def test_finished_rows_dropped_give_the_same_replies(model, tok, early_stop, share, monkeypatch):
    requests, stops = early_stop
    want = [unpadded_greedy(model, tok, r, frozenset(stops)) for r in requests]
    full = [unpadded_greedy(model, tok, r) for r in requests]
    assert any(len(w) < len(f) for w, f in zip(want, full))   # some replies do end early
    monkeypatch.setattr(hf, "greedy_decode", functools.partial(greedy.greedy_decode,
                                                               compact_share=share))
    b = backend(model, tok)
    b.stop_ids = [*b.stop_ids, *stops]
    assert b.generate(requests) == want


def test_dropping_finished_rows_runs_fewer_tokens(model, tok, early_stop):
    requests, stops = early_stop
    ours, theirs = backend(model, tok), backend(model, tok, own_decoding=False)
    for b in (ours, theirs):
        b.stop_ids = [*b.stop_ids, *stops]
    assert ours.generate(requests) == theirs.generate(requests)
    assert ours.tokens_run < theirs.tokens_run


def test_budgets_default_per_request_type_and_one_option_sets_both(model, tok):
    default = backend(model, tok)
    assert (default.runner.token_budget, default.gen_runner.token_budget) == (2048, 8192)
    assert default.threads == torch.get_num_threads()        # recorded in the run's manifest
    given = backend(model, tok, token_budget=100)
    assert (given.runner.token_budget, given.gen_runner.token_budget) == (100, 100)
