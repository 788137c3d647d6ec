"""BBQ (Parrish et al. 2022) -> one ``choice`` probe per category file (``data/<Category>.jsonl``).

Each record is a context, a question and three answers (two people and an UNKNOWN answer whose
wording varies: it is found by ``answer_info[ansK][1] == "unknown"``). ``gold`` is the record's
``label``. ``bias_target`` is the answer a stereotyped reading picks, as in the paper's bias
score: for a negative question the person from a stereotyped group, for a non-negative question
the other person; it is null when the answer labels do not decide it.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any, cast

from auditkit.errors import AuditError
from auditkit.probes.importers._common import ImportedProbe, derived_name, item_id, unique_items
from auditkit.probes.importers._reading import Reading, lenient
from auditkit.probes.importers._tables import Row, read_jsonl, require, text_field

SOURCE = "BBQ (Parrish et al. 2022), https://github.com/nyu-mll/BBQ"
LICENSE = "CC BY 4.0"
KEYS = ("example_id", "question_polarity", "context_condition", "category", "answer_info",
        "additional_metadata", "context", "question", "ans0", "ans1", "ans2", "label")
ANSWERS = ("ans0", "ans1", "ans2")
# BBQ categories -> auditkit's dimension names (the probe is bias.bbq.<dimension>)
DIMENSIONS = {
    "Age": "age", "Disability_status": "disability", "Gender_identity": "gender",
    "Nationality": "nationality", "Physical_appearance": "physical_appearance",
    "Race_ethnicity": "race", "Race_x_gender": "race_x_gender",
    "Race_x_SES": "race_x_socioeconomic", "Religion": "religion", "SES": "socioeconomic",
    "Sexual_orientation": "sexual_orientation",
}
# spellings of one group in answer labels and stereotyped_groups, after _canon (as the
# authors' own analysis script merges them: man/boy -> M, woman/girl -> F, ...)
CANON = {"man": "m", "boy": "m", "men": "m", "male": "m", "woman": "f", "girl": "f",
         "women": "f", "girls": "f", "female": "f", "transgenderwomen": "trans",
         "transgendermen": "trans", "transgender": "trans"}


def read_bbq(src: Path, reading: Reading | None = None) -> ImportedProbe:
    """The records of one BBQ category file."""
    reading = lenient(reading)
    if src.is_dir():
        raise AuditError(src, "is a directory; BBQ is imported one category file at a time "
                              "(e.g. data/Age.jsonl), each becoming probe bias.bbq.<category>")
    rows = read_jsonl(src, reading)
    if not rows:
        raise AuditError(src, "no records; expected one BBQ JSON object per line")
    category = _category(src, rows)
    numbered = reading.each(rows, lambda row: (row.line, _item(src, row, category)))
    items, notes = unique_items(src, numbered, reading)
    unresolved = sum(item["bias_target"] is None for item in items)
    if unresolved:
        notes += (f"{unresolved} item(s) have no bias_target: their answer labels did not "
                  "match the stereotyped groups one way",)
    return ImportedProbe(
        name=derived_name(f"bias.bbq.{DIMENSIONS[category]}", src, (f"{category}.jsonl",)),
        kind="choice", category="bias",
        dimension=DIMENSIONS[category],
        description=(f"BBQ {category}: questions about two people from different groups, with "
                     "ambiguous (answer: unknown) or disambiguated contexts; fails when the "
                     "model's best option is not the correct one."),
        source=f"{SOURCE} ({src.name})", license=LICENSE, items=items, notes=notes)


def _category(path: Path, rows: list[Row]) -> str:
    """The file's one category: the first record's (a known BBQ category)."""
    first = rows[0].get("category")
    if first not in DIMENSIONS:
        raise AuditError(path, f"unknown BBQ category {first!r}; expected one of "
                               f"{', '.join(DIMENSIONS)}", field="category", line=rows[0].line)
    return str(first)


def _same_category(path: Path, row: Row, category: str) -> None:
    if row.get("category") != category:
        raise AuditError(path, f"category {row.get('category')!r} differs from the first "
                               f"record's {category!r}; expected one category per file",
                         field="category", line=row.line)


def _item(path: Path, row: Row, category: str) -> dict[str, Any]:
    _same_category(path, row, category)
    require(path, row, KEYS)
    options = [text_field(path, row, key) for key in ANSWERS]
    answers = _answer_info(path, row)
    unknown = _unknown_index(path, row, [label for _, label in answers])
    gold = _gold(path, row, unknown)
    extra = row["additional_metadata"] if isinstance(row["additional_metadata"], dict) else {}
    groups = [str(g) for g in extra.get("stereotyped_groups") or []]
    polarity = row["question_polarity"]
    return {
        "id": item_id(row["example_id"], path, row.line, "example_id"),
        "context": text_field(path, row, "context"),
        "question": text_field(path, row, "question"),
        "options": options, "gold": gold,
        "bias_target": bias_target(answers, groups, unknown=unknown, negative=polarity == "neg"),
        "group": ", ".join(groups),
        "meta": {"example_id": row["example_id"], "category": row["category"],
                 "question_index": row.get("question_index"),
                 "context_condition": row["context_condition"], "question_polarity": polarity,
                 "unknown_option": unknown, "answer_info": row["answer_info"],
                 "stereotyped_groups": groups, "subcategory": extra.get("subcategory"),
                 "source": extra.get("source")},
    }


def _answer_info(path: Path, row: Row) -> list[tuple[str, str]]:
    """``answer_info[ansK]`` for K = 0, 1, 2: each answer's (short text, group label)."""
    info = row["answer_info"]
    answers = []
    for key in ANSWERS:
        entry = info.get(key) if isinstance(info, dict) else None
        if not (isinstance(entry, list) and len(entry) == 2
                and all(isinstance(part, str) for part in entry)):
            raise AuditError(path, f"expected answer_info.{key} to be [text, group label], "
                                   f"found {entry!r}", field=f"answer_info.{key}", line=row.line)
        answers.append((entry[0], entry[1]))
    return answers


def _unknown_index(path: Path, row: Row, labels: list[str]) -> int:
    found = [k for k, label in enumerate(labels) if label == "unknown"]
    if len(found) != 1:
        raise AuditError(path, f"expected exactly one answer labelled 'unknown' in "
                               f"answer_info, found {len(found)}", field="answer_info",
                         line=row.line)
    return found[0]


def _gold(path: Path, row: Row, unknown: int) -> int:
    label = row["label"]
    if isinstance(label, bool) or label not in (0, 1, 2):
        raise AuditError(path, f"expected label 0, 1 or 2, found {label!r}", field="label",
                         line=row.line)
    if row["context_condition"] == "ambig" and label != unknown:
        raise AuditError(path, f"an ambiguous context must have the unknown answer "
                               f"(ans{unknown}) as its label, found {label}", field="label",
                         line=row.line)
    return cast(int, label)   # 0, 1 or 2, checked above


def bias_target(answers: list[tuple[str, str]], groups: list[str], *, unknown: int,
                negative: bool) -> int | None:
    """The answer a stereotyped reading picks (Parrish et al. 2022, the bias score's "biased
    answer"): the stereotyped-group person for a negative question, the other person for a
    non-negative one. ``answers`` holds each option's answer_info (text, label). None unless
    exactly one of the two people belongs to a stereotyped group."""
    people = [k for k in range(len(answers)) if k != unknown]
    targeted = [k for k in people if any(_same_group(answers[k], g) for g in groups)]
    if len(targeted) != 1:
        return None
    return targeted[0] if negative else next(k for k in people if k != targeted[0])


def _same_group(answer: tuple[str, str], group: str) -> bool:
    """Whether an answer's label (or its text, as Nationality needs) names ``group``: equality
    after normalizing, never substrings ('old' is not in 'nonOld', 'African' is not
    'African American'); labels lose a leading gender tag ('M-Black' -> 'Black')."""
    text, label = answer
    names = {_canon(label), _canon(re.sub(r"^[MF]-", "", label)), _canon(text)}
    wanted = _canon(group)
    if wanted == "trans":
        return any(name.startswith("trans") for name in names)
    return wanted in names


def _canon(text: str) -> str:
    key = re.sub(r"[\s_-]+", "", text).lower()
    return CANON.get(key, key)
