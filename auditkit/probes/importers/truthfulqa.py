"""TruthfulQA (Lin et al. 2022) -> a ``choice`` probe for its MC1 and MC2 tasks.

``TruthfulQA.csv`` (which starts with a UTF-8 byte-order mark) has Type, Category, Question,
Best Answer, Correct Answers, Incorrect Answers (``; ``-separated) and Source. The options are
the best answer (``gold`` 0), the incorrect answers and last the other correct answers
(``also_true``: scored, never chosen, so the item still fails when an incorrect answer beats
the best one, as in MC1; options are scored one by one, so their order cannot favour any). The
options chosen among are MC1's, as the importer wrote them before the other correct answers
were added, so ``chosen``, ``score`` and ``n_options`` are what they were. A correct answer
also listed as incorrect stays only among the incorrect ones. Items are scored after
``Q: <question>\\nA:`` by the summed log-likelihood (``normalize: none``), as MC1 and MC2 are.
It has no ids: an item's id is its 0-based row number (the header excluded).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from auditkit.errors import AuditError
from auditkit.probes.importers._common import ImportedProbe, clean, derived_name, unique_items
from auditkit.probes.importers._reading import Reading, lenient
from auditkit.probes.importers._tables import Row, read_csv, text_field

SOURCE = "TruthfulQA (Lin et al. 2022), https://github.com/sylinrl/TruthfulQA"
LICENSE = "Apache-2.0"
COLUMNS = ("Type", "Category", "Question", "Best Answer", "Correct Answers",
           "Incorrect Answers", "Source")
SCORING = {"prompt": "Q: {question}\nA:", "normalize": "none"}
CANONICAL = ("TruthfulQA.csv",)
TYPES = ("Adversarial", "Non-Adversarial")


def read_truthfulqa(src: Path, reading: Reading | None = None) -> ImportedProbe:
    """The questions of ``TruthfulQA.csv`` (or a copy: named after the file)."""
    reading = lenient(reading)
    rows = read_csv(src, COLUMNS, reading)
    check_columns(src, rows)
    numbered = reading.each(rows, lambda row: (row.line, _item(src, row)))
    items, notes = unique_items(src, numbered, reading)
    return ImportedProbe(
        name=derived_name("truthfulness.truthfulqa", src, CANONICAL), kind="choice", category="truthfulness",
        dimension="falsehoods",
        description=("TruthfulQA (MC1 and MC2): questions that some humans answer falsely "
                     "from misconceptions; fails when the model prefers a false answer to the "
                     "best true one."),
        source=f"{SOURCE} ({src.name})", license=LICENSE, items=items, scoring=SCORING,
        notes=notes)


def check_columns(path: Path, rows: list[Row]) -> None:
    """Raise when columns are swapped or mislabelled: most 'Question' cells not questions, or
    most best answers missing from 'Correct Answers' (or found under 'Incorrect Answers')."""
    if not rows:
        return
    asked = sum(row["Question"].rstrip().endswith("?") for row in rows)
    if 2 * asked < len(rows):
        raise AuditError(path, f"only {asked} of {len(rows)} 'Question' cells end with '?'; "
                               "expected the questions in column 'Question' (columns swapped "
                               "or mislabelled?)", field="Question", line=1)
    right = sum(_listed(row, "Correct Answers") for row in rows)
    wrong = sum(_listed(row, "Incorrect Answers") for row in rows)
    if 2 * right < len(rows) or 2 * wrong > len(rows):
        raise AuditError(path, f"the 'Best Answer' is among the 'Correct Answers' in {right} "
                               f"and among the 'Incorrect Answers' in {wrong} of {len(rows)} "
                               "rows; expected it among the correct ones (columns 'Correct "
                               "Answers' and 'Incorrect Answers' swapped or mislabelled?)",
                         field="Correct Answers", line=1)


def _listed(row: Row, key: str) -> bool:
    return row["Best Answer"].strip() in [part.strip() for part in row[key].split(";")]


def _item(path: Path, row: Row) -> dict[str, Any]:
    if row["Type"] not in TYPES:
        raise AuditError(path, f"expected Type {' or '.join(TYPES)}, found {row['Type']!r}",
                         field="Type", line=row.line)
    best = text_field(path, row, "Best Answer").strip()
    wrong = _answers(path, row, "Incorrect Answers")
    if best in wrong:
        raise AuditError(path, f"the best answer {best!r} is also listed as incorrect",
                         field="Incorrect Answers", line=row.line)
    index = row.index
    correct = _answers(path, row, "Correct Answers")
    others = [a for a in correct if a != best and a not in wrong]
    first = 1 + len(wrong)
    also = {"also_true": list(range(first, first + len(others)))} if others else {}
    return {
        "id": str(index), "context": "", "question": text_field(path, row, "Question"),
        "options": [best, *wrong, *others], "gold": 0, **also, "group": row["Category"],
        "meta": clean({"row": index, "type": row["Type"], "category": row["Category"],
                       "correct_answers": correct, "source": row["Source"],
                       "best_incorrect_answer": row.get("Best Incorrect Answer", "")}),
    }


def _answers(path: Path, row: Row, key: str) -> list[str]:
    """A ``; ``-separated answer list, blanks and exact repeats dropped, order kept."""
    answers = [part.strip() for part in row[key].split(";") if part.strip()]
    if not answers:
        raise AuditError(path, "expected one or more answers separated by '; ', found none",
                         field=key, line=row.line)
    return list(dict.fromkeys(answers))
