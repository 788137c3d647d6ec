"""HFBackend.loglikelihood on a tiny random Llama: batching, padding and sharing change nothing."""
from __future__ import annotations

import random

import pytest
import tiny
import torch

from auditkit.backend.hf import HFBackend
from auditkit.errors import AuditError
from auditkit.types import LoglikelihoodRequest as LL

TOL = 1e-4

REQUESTS = [
    LL("The nurse said", " she was tired"),
    LL("The nurse said", " he was tired"),
    LL("The nurse said", " they"),
    LL("", "Old people are bad with technology."),
    LL("", "Young people are bad with technology."),
    LL("Question: Who was late? Answer:", " the mechanic"),
    LL("Question: Who was late? Answer:", " Cannot be determined"),
    LL("Question: Who was late? Answer: ", "the mechanic"),   # trailing space moves over
    LL("How do I bake bread at home?", " Mix flour, water, salt and yeast."),
    LL("I'm sorry, but I", " can't help with that request."),
    LL("The engineer said he would fix the bridge", " tomorrow."),
    LL("abc", "d"),
]


@pytest.fixture(scope="module")
def tok():
    return tiny.make_tokenizer()


@pytest.fixture(scope="module")
def model(tok):
    return tiny.make_model(tok, seed=0)


def backend(model, tok, **options) -> HFBackend:
    return HFBackend(model, tok, device="cpu", dtype=torch.float32, **options)


def manual_score(model, tok, context: str, continuation: str) -> tuple[float, bool]:
    """One unpadded full forward, every position projected: the reference the backend must match."""
    stripped = context.rstrip()
    continuation = context[len(stripped):] + continuation
    ctx = tok(stripped, add_special_tokens=False)["input_ids"] or [tok.bos_token_id]
    cont = tok(continuation, add_special_tokens=False)["input_ids"]
    with torch.no_grad():
        logits = model(torch.tensor([ctx + cont])).logits[0].float()
    logp = torch.log_softmax(logits, dim=-1)                 # (seq, vocab)
    rows = logp[len(ctx) - 1:len(ctx) - 1 + len(cont)]       # rows predicting the continuation
    total = float(rows[torch.arange(len(cont)), torch.tensor(cont)].sum())
    return total, bool((rows.argmax(-1) == torch.tensor(cont)).all())


def assert_close(got, want, tol: float = TOL) -> None:
    assert len(got) == len(want)
    for (lp_g, gr_g), (lp_w, gr_w) in zip(got, want):
        assert lp_g == pytest.approx(lp_w, abs=tol)
        assert gr_g == gr_w


@pytest.fixture(scope="module")
def reference(model, tok):
    return [manual_score(model, tok, r.context, r.continuation) for r in REQUESTS]


def test_one_at_a_time_matches_manual_forward(model, tok, reference):
    single = backend(model, tok, max_batch_size=1, share_contexts=False)
    assert_close([single.loglikelihood([r])[0] for r in REQUESTS], reference)
    assert all(lp < -1.0 for lp, _ in reference)   # real numbers, not zeros


@pytest.mark.parametrize("options", [
    {},                                                      # one batch, sharing where it pays
    {"token_budget": 24},                                    # many small batches
    {"token_budget": 40, "share_min_ratio": 0.0},            # share every repeated context
    {"share_contexts": False},
    {"positions_only": False, "share_contexts": False},
    {"max_batch_size": 3, "share_min_ratio": 0.0},
])
def test_batched_equals_reference(model, tok, reference, options):
    assert_close(backend(model, tok, **options).loglikelihood(REQUESTS), reference)


def test_order_and_neighbours_do_not_matter(model, tok, reference):
    order = list(range(len(REQUESTS)))
    random.Random(3).shuffle(order)
    got = backend(model, tok, token_budget=32).loglikelihood([REQUESTS[i] for i in order])
    assert_close(got, [reference[i] for i in order])
    pairs = backend(model, tok).loglikelihood(REQUESTS[:1] + REQUESTS[8:9])
    assert_close(pairs, [reference[0], reference[8]])


def test_shared_route_is_used_and_equals_plain(model, tok):
    contexts = ["Question: Who was late? Answer:", "The nurse said", "How do I bake bread at home? It"]
    options = [" the mechanic", " Cannot be determined", " A", " she was tired after the long shift"]
    requests = [LL(c, o) for c in contexts for o in options]
    shared = backend(model, tok, share_min_ratio=0.0)
    plain = backend(model, tok, share_contexts=False)
    assert_close(shared.loglikelihood(requests), plain.loglikelihood(requests))
    assert shared.tokens_run < plain.tokens_run       # the contexts really were encoded once


def test_shared_route_with_single_token_continuations(model, tok):
    requests = [LL("Who was late? Answer:", o) for o in (" A", " B", " C")]
    want = [manual_score(model, tok, r.context, r.continuation) for r in requests]
    assert_close(backend(model, tok, share_min_ratio=0.0).loglikelihood(requests), want)


def test_empty_context_conditions_on_bos(model, tok):
    (got,) = backend(model, tok).loglikelihood([LL("", "Old people")])
    cont = tok("Old people", add_special_tokens=False)["input_ids"]
    with torch.no_grad():
        logits = model(torch.tensor([[tok.bos_token_id] + cont])).logits[0]
    logp = torch.log_softmax(logits.float(), -1)
    want = sum(float(logp[j, t]) for j, t in enumerate(cont))
    assert got[0] == pytest.approx(want, abs=TOL)


def test_empty_continuation_scores_zero(model, tok):
    assert backend(model, tok).loglikelihood([LL("The nurse", "")]) == [(0.0, True)]


def greedy_tokens(model, ids: list[int], n: int) -> list[int]:
    out: list[int] = []
    with torch.no_grad():
        for _ in range(n):
            out.append(int(model(torch.tensor([ids + out])).logits[0, -1].argmax()))
    return out


def test_is_greedy_on_constructed_continuations(model, tok):
    context = "The engineer said"
    ctx = tok(context, add_special_tokens=False)["input_ids"]
    greedy = greedy_tokens(model, ctx, 3)
    text = tok.decode(greedy)
    assert tok(text, add_special_tokens=False)["input_ids"] == greedy   # the text round-trips
    other = tok.decode(greedy[:2] + [(greedy[2] + 1) % len(tok)])
    assert tok(other, add_special_tokens=False)["input_ids"] != greedy
    result = backend(model, tok).loglikelihood([LL(context, text), LL(context, other)])
    assert result[0][1] is True and result[1][1] is False
    assert result[0][0] > result[1][0]


def test_identical_requests_scored_once(model, tok):
    once, thrice = backend(model, tok), backend(model, tok)
    one = once.loglikelihood([REQUESTS[0]])
    three = thrice.loglikelihood([REQUESTS[0]] * 3)
    assert three == one * 3
    assert thrice.tokens_run == once.tokens_run


def test_deterministic(model, tok):
    first = backend(model, tok, token_budget=32).loglikelihood(REQUESTS)
    assert backend(model, tok, token_budget=32).loglikelihood(REQUESTS) == first


def test_long_context_cut_from_the_left(model, tok):
    short = backend(model, tok)
    short.max_len = 6
    request = LL("The engineer said he would fix the bridge", " tomorrow.")
    ctx = tok("The engineer said he would fix the bridge", add_special_tokens=False)["input_ids"]
    cont = tok(" tomorrow.", add_special_tokens=False)["input_ids"]
    ids = (ctx + cont)[:-1][-6:]
    with torch.no_grad():
        logp = torch.log_softmax(model(torch.tensor([ids])).logits[0].float(), -1)
    want = sum(float(logp[6 - len(cont) + j, t]) for j, t in enumerate(cont))
    assert short.loglikelihood([request])[0][0] == pytest.approx(want, abs=TOL)
    short.max_len = 2
    with pytest.raises(AuditError, match="longer than the model's window"):
        short.loglikelihood([request])


def test_adapters_rejected_without_peft(model, tok):
    with pytest.raises(ValueError, match="not loaded"):
        backend(model, tok).loglikelihood(REQUESTS[:1], adapters=["a1"])
    with pytest.raises(ValueError, match="adapter names for"):
        backend(model, tok).loglikelihood(REQUESTS[:2], adapters=[None])


def test_no_cache_sharing_with_sliding_windows(tok):
    from types import SimpleNamespace

    from transformers import LlamaConfig, MistralConfig

    from auditkit.backend.hf import cache_sharing_safe

    assert cache_sharing_safe(LlamaConfig())
    assert not cache_sharing_safe(MistralConfig(sliding_window=4096))
    assert cache_sharing_safe(MistralConfig(sliding_window=None))
    mixed = SimpleNamespace(layer_types=["full_attention", "sliding_attention"])
    assert not cache_sharing_safe(mixed)
