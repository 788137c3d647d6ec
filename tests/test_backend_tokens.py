"""How requests become token ids (lm-eval conventions) and the tokenizer fingerprint."""
from __future__ import annotations

import pytest
import tiny

from auditkit.backend.tokens import (
    encode_pair,
    prefix_token_id,
    split_whitespace,
    stop_token_ids,
    strips_leading_space,
    tokenizer_fingerprint,
)
from auditkit.types import LoglikelihoodRequest as LL


@pytest.fixture(scope="module")
def tok():
    return tiny.make_tokenizer()


def ids(tok, text: str) -> tuple[int, ...]:
    return tuple(tok(text, add_special_tokens=False)["input_ids"])


def test_split_whitespace_moves_trailing_space():
    assert split_whitespace("Answer: ", "yes") == ("Answer:", " yes")
    assert split_whitespace("Answer:\n ", "yes") == ("Answer:", "\n yes")
    assert split_whitespace("Answer:", " yes") == ("Answer:", " yes")


def test_continuation_is_its_own_encoding(tok):
    pair = encode_pair(tok, LL("The nurse said ", "she was tired"))
    assert pair.context == ids(tok, "The nurse said")
    assert pair.continuation == ids(tok, " she was tired")


def test_empty_context_is_bos(tok):
    pair = encode_pair(tok, LL("", "Old people"))
    assert pair.context == (tok.bos_token_id,)
    assert pair.continuation == ids(tok, "Old people")


def test_prefix_falls_back_to_eos(tok):
    class NoBos:
        bos_token_id, eos_token_id = None, 7
    assert prefix_token_id(tok) == tok.bos_token_id
    assert prefix_token_id(NoBos()) == 7


def test_stop_ids_prefer_generation_config(tok):
    class Config:
        eos_token_id = [5, 6]
    assert stop_token_ids(tok, Config()) == [5, 6]
    assert stop_token_ids(tok, None) == [tok.eos_token_id]


def test_tokenizer_fingerprint_tracks_what_changes_ids(tok):
    assert tokenizer_fingerprint(tok) == tokenizer_fingerprint(tiny.make_tokenizer())
    assert tokenizer_fingerprint(tok) != tokenizer_fingerprint(tiny.make_tokenizer(chat_template=False))
    assert tokenizer_fingerprint(tok) != tokenizer_fingerprint(tiny.make_tokenizer(vocab_size=300))


def dummy_prefix_tokenizer():
    """A tokenizer that, like legacy SentencePiece (Llama-2), puts "▁" before every text."""
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.normalizer = normalizers.Sequence([normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")])
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="never")
    tok.decoder = decoders.Sequence([decoders.Replace("▁", " "), decoders.Strip(" ", 1, 0)])
    tok.train_from_iterator(tiny.CORPUS + ["Answer: yes. The nurse said that Who was late?"],
                            trainers.BpeTrainer(vocab_size=260, show_progress=False,
                                                special_tokens=["<unk>", "<s>", "</s>"]))
    return PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>",
                                   unk_token="<unk>")


def test_dummy_prefix_tokenizer_gets_the_joint_tokens(tok):
    sp = dummy_prefix_tokenizer()
    assert strips_leading_space(sp) and not strips_leading_space(tok)
    joint = ids(sp, "Answer: yes")
    assert ids(sp, "Answer:") + ids(sp, " yes") != joint         # the artefact avoided
    pair = encode_pair(sp, LL("Answer: ", "yes"), strip_space=True)
    assert pair.context + pair.continuation == joint
    assert encode_pair(sp, LL("", " yes"), strip_space=True).continuation == ids(sp, "yes")
