"""The human-labelled replies the default judge is trained on, read from their upstream files.

Three public sets, all MIT-licensed, kept outside the project (``../shared/judge-data/``; its
SOURCES.md gives commits and sha256 sums). Each row becomes a :class:`LabelledReply`:

- ``openai-rbr-gold`` (Mu et al. 2024, "Rule Based Rewards for Language Model Safety"): 23
  human yes/no propositions per reply. ``fully_complies`` -> full compliance;
  ``partially_complies`` (and not fully) -> partial refusal; neither -> full refusal; rows with
  ``illogical_continuation_of_prompt`` or an empty completion are dropped. Harmful compliance =
  ``disallowed_content``. Upstream train/test split (no request in both). Request = the last
  user message of the conversation.
- ``gptfuzz`` (Yu et al. 2023, GPTFuzzer): gpt-3.5-turbo replies to jailbreak prompts built on
  100 harmful questions, labelled jailbroken (1) or not (0). Harmful compliance only (0 covers
  refusals *and* harmless compliance, so no three-way label). Upstream split by question
  (train / evaluate -> test). Request = the bare question (the jailbreak template is not kept).
- ``chatgpt-refusals`` (Reuter & Schulze 2023): gpt-3.5-turbo replies with one of 8 tones.
  complied, disclaimed -> full compliance; redirected, contradicted, counseling -> partial
  refusal; rejected -> full refusal; dontknow and incoherent dropped. No harmful label. No
  upstream split: rows are grouped by prompt template (the prompt without its capitalised words
  after the first, so "Write me a poem criticizing <name>" is one group of 91) and a group is
  in the test split when the first byte of sha256(group) is below 52 (about 20%).

A group never straddles train and test, so no request (or template) is in both.
"""
from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from auditkit.errors import AuditError
from auditkit.judge.base import Label

SOURCES = ("openai-rbr-gold", "gptfuzz", "chatgpt-refusals")
RBR_FILES = {"train": "data/rbr_gold_data/train.jsonl", "test": "data/rbr_gold_data/test.jsonl"}
GPTFUZZ_FILES = {"train": "datasets/responses_labeled/train.csv",
                 "test": "datasets/responses_labeled/evaluate.csv"}
GPTFUZZ_QUESTIONS = "datasets/questions/question_list.csv"
CHATGPT_FILE = "data/all_hand_labeled.json"
CHATGPT_TONES: dict[str, Label | None] = {
    "complied": "full_compliance", "disclaimed": "full_compliance",
    "redirected": "partial_refusal", "contradicted": "partial_refusal",
    "counseling": "partial_refusal", "rejected": "full_refusal",
    "dontknow": None, "incoherent": None,
}
TEST_BYTE = 52          # chatgpt-refusals: a group is test when sha256(group)[0] < 52 (~20%)


@dataclass(frozen=True)
class LabelledReply:
    """One human-labelled (request, reply)."""

    source: str
    split: str               # "train" or "test"
    group: str               # request (or template) id: never in both splits
    request: str
    reply: str
    label: Label | None      # three-way label; None when the source has none
    harmful: bool | None     # harmful compliance; None when the source has none
    prompt_type: str = ""    # the source's own category of the request


def rbr_label(propositions: dict[str, bool]) -> Label:
    """FC / PR / FR from the RBR propositions (SOURCES.md's mapping)."""
    if propositions["fully_complies"]:
        return "full_compliance"
    return "partial_refusal" if propositions["partially_complies"] else "full_refusal"


def template_key(prompt: str) -> str:
    """A chatgpt-refusals prompt without the capitalised words after the first (its template)."""
    words = prompt.split()
    return " ".join([w.lower() for w in words[:1]] + [w for w in words[1:] if not w[:1].isupper()])


def chatgpt_split(group: str) -> str:
    return "test" if hashlib.sha256(group.encode()).digest()[0] < TEST_BYTE else "train"


def load_rbr(root: Path) -> Iterator[LabelledReply]:
    for split, name in RBR_FILES.items():
        for _, row in _jsonl(root / name):
            reply = "".join(m["content"] for m in row["completion"])
            props = row["propositions"]
            if props["illogical_continuation_of_prompt"] or not reply.strip():
                continue
            users = [m["content"] for m in row["prompt"] if m["role"] == "user"]
            yield LabelledReply("openai-rbr-gold", split, f"rbr:{split}:{users[0]}",
                                users[-1], reply, rbr_label(props),
                                bool(props["disallowed_content"]), row["category"])


def load_gptfuzz(root: Path) -> Iterator[LabelledReply]:
    questions = {int(r["index"]): r["text"] for r in _csv(root / GPTFUZZ_QUESTIONS)}
    for split, name in GPTFUZZ_FILES.items():
        for row in _csv(root / name):
            q = int(row["question"])
            yield LabelledReply("gptfuzz", split, f"gptfuzz:{q}", questions[q], row["Response"],
                                None, row["label"] == "1", "harmful")


def load_chatgpt_refusals(root: Path) -> Iterator[LabelledReply]:
    rows = json.loads((root / CHATGPT_FILE).read_text(encoding="utf-8"))
    for row in rows:
        label = CHATGPT_TONES[row["tone"]]
        if label is None:
            continue
        group = "chatgpt:" + template_key(row["prompt"])
        yield LabelledReply("chatgpt-refusals", chatgpt_split(group), group, row["prompt"],
                            row["response"], label, None, row["tone"])


LOADERS = {"openai-rbr-gold": load_rbr, "gptfuzz": load_gptfuzz,
           "chatgpt-refusals": load_chatgpt_refusals}


def load_judge_data(root: str | Path) -> list[LabelledReply]:
    """Every labelled reply of the three sources under ``root`` (one folder per source)."""
    root = Path(root)
    rows: list[LabelledReply] = []
    for source in SOURCES:
        folder = root / source
        if not folder.is_dir():
            raise AuditError(root, f"no folder {source!r}; expected the judge data's three "
                             f"source folders: {', '.join(SOURCES)}")
        try:
            rows.extend(LOADERS[source](folder))
        except (OSError, KeyError, ValueError, TypeError) as err:
            raise AuditError(folder, f"unexpected format ({type(err).__name__}: {err}); "
                             "expected the upstream files described in SOURCES.md") from err
    return rows


def _jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    with path.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            if line.strip():
                yield number, json.loads(line)


def _csv(path: Path) -> Iterator[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        yield from csv.DictReader(fh)
