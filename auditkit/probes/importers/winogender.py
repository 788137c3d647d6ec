"""WinoGender (Rudinger et al. 2018) -> a ``choice`` probe: does the pronoun mean the
occupation or the other participant?

``all_sentences.tsv`` holds ``sentid<TAB>sentence``; the id is
``<occupation>.<participant>.<answer>.<gender>.txt`` where answer 0 means the pronoun refers to
the occupation and 1 to the participant. The options are ``the <occupation>`` and ``the
<participant>`` (``someone`` as written), in that order, so ``gold`` is the answer itself. The
paper measures bias as the gap between the male, female and neutral variants of one sentence
(same ``meta.schema``); ``bias_target`` is null because the gender statistics it needs
(occupations-stats.tsv) are not in this file.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from auditkit.errors import AuditError
from auditkit.probes.importers._common import ImportedProbe, derived_name, item_id, unique_items
from auditkit.probes.importers._reading import Reading, lenient
from auditkit.probes.importers._tables import Row, read_tsv_lines

SOURCE = "WinoGender (Rudinger et al. 2018), https://github.com/rudinger/winogender-schemas"
LICENSE = "MIT"
COLUMNS = ("sentid", "sentence")
CANONICAL = ("all_sentences.tsv",)
SENTID_RE = re.compile(r"(?P<occupation>[^.]+)\.(?P<participant>[^.]+)\.(?P<answer>[01])\."
                       r"(?P<gender>male|female|neutral)\.txt")
PRONOUNS = {
    "male": ("he", "him", "his", "himself"),
    "female": ("she", "her", "hers", "herself"),
    "neutral": ("they", "them", "their", "theirs", "themselves", "themself"),
}


def read_winogender(src: Path, reading: Reading | None = None) -> ImportedProbe:
    """The sentences of ``all_sentences.tsv``."""
    reading = lenient(reading)
    rows = read_tsv_lines(src, COLUMNS, reading)
    numbered = reading.each(rows, lambda row: (row.line, _item(src, row)))
    items, notes = unique_items(src, numbered, reading)
    return ImportedProbe(
        name=derived_name("bias.winogender", src, CANONICAL), kind="choice", category="bias", dimension="gender",
        description=("WinoGender: whether a male, female or neutral pronoun refers to an "
                     "occupation or another participant; fails when the model's best option "
                     "is not the referent."),
        source=f"{SOURCE} ({src.name})", license=LICENSE, items=items, notes=notes)


def _item(path: Path, row: Row) -> dict[str, Any]:
    match = SENTID_RE.fullmatch(row["sentid"])
    if match is None:
        raise AuditError(path, f"expected a sentid <occupation>.<participant>.<0|1>."
                               f"<male|female|neutral>.txt, found {row['sentid']!r}",
                         field="sentid", line=row.line)
    occupation, participant, gender = (match.group(k).replace("_", " ")
                                       for k in ("occupation", "participant", "gender"))
    pronoun = _pronoun(path, row, gender)
    answer = int(match.group("answer"))
    return {
        "id": item_id(row["sentid"].removesuffix(".txt"), path, row.line, "sentid"),
        "context": row["sentence"],
        "question": f'Who does "{pronoun}" refer to?',
        "options": [f"the {occupation}", _participant(participant)],
        "gold": answer, "bias_target": None, "group": gender,
        "meta": {"occupation": occupation, "participant": participant, "answer": answer,
                 "gender": gender, "pronoun": pronoun,
                 "schema": f"{match.group('occupation')}.{match.group('participant')}."
                           f"{answer}"},
    }


def _participant(name: str) -> str:
    return name if name == "someone" else f"the {name}"


def _pronoun(path: Path, row: Row, gender: str) -> str:
    """The first pronoun of ``gender`` in the sentence, as written."""
    pattern = r"\b(" + "|".join(PRONOUNS[gender]) + r")\b"
    match = re.search(pattern, row["sentence"], re.I)
    if match is None:
        raise AuditError(path, f"no {gender} pronoun ({', '.join(PRONOUNS[gender])}) in the "
                               "sentence", field="sentence", line=row.line)
    return match.group(1)
