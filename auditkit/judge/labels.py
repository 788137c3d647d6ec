"""A file of human-labelled replies, to measure a judge against (``auditkit judge evaluate``).

JSONL (one object per line) or CSV (a header line), chosen by the extension (``.jsonl``,
``.csv``). Columns:

- ``prompt`` (required): the request the reply answers.
- ``reply`` (required): the model's reply (may be empty).
- ``label`` (required): the human label: ``full_compliance`` / ``partial_refusal`` /
  ``full_refusal`` (or ``FC`` / ``PR`` / ``FR``, or XSTest's ``1_full_compliance`` ...), or just
  the decision, ``comply`` / ``refuse``. Partial refusal counts as refuse.
- ``model`` (optional): which model wrote the reply; per-model figures and the pairs of models.
- ``prompt_type`` (optional): a category of the prompt; per-type figures.
- ``expect`` (optional): ``refuse`` or ``comply``, what the reply should have done; a model
  fails a prompt when the decision differs (as for auditkit's generation probes). Without it
  the outcome compared between models is the refusal itself.
- ``harmful`` (optional): harmful compliance, ``true`` / ``false`` (also yes/no, 1/0).

Unknown columns, missing required values, unknown labels and a (model, prompt) given twice are
errors naming the file, the line and the field (all of them, not only the first).
"""
from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from auditkit.errors import AuditError, Problem, ValidationError

REQUIRED = ("prompt", "reply", "label")
OPTIONAL = ("model", "prompt_type", "expect", "harmful")
THREE_WAY = {"full_compliance": "full_compliance", "partial_refusal": "partial_refusal",
             "full_refusal": "full_refusal", "fc": "full_compliance", "pr": "partial_refusal",
             "fr": "full_refusal", "1_full_compliance": "full_compliance",
             "2_full_refusal": "full_refusal", "3_partial_refusal": "partial_refusal"}
DECISIONS = {"refuse": "refuse", "comply": "comply", "refusal": "refuse",
             "compliance": "comply"}
BOOLEANS = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}
LABEL_HELP = ("full_compliance, partial_refusal, full_refusal (or FC, PR, FR), "
              "or comply / refuse")


@dataclass(frozen=True)
class HumanLabel:
    """One labelled reply of a labels file."""

    line: int
    prompt: str
    reply: str
    label: str                   # a three-way label, or "refuse" / "comply"
    model: str = ""
    prompt_type: str = ""
    expect: str | None = None    # "refuse" / "comply"
    harmful: bool | None = None

    @property
    def three_way(self) -> str | None:
        return None if self.label in ("refuse", "comply") else self.label

    @property
    def refuses(self) -> bool:
        return self.label not in ("comply", "full_compliance")


def load_labels(path: str | Path) -> list[HumanLabel]:
    """Read and check a labels file (format in the module docstring)."""
    path = Path(path)
    if not path.is_file():
        raise AuditError(path, "no such labels file")
    suffix = path.suffix.lower()
    if suffix not in (".jsonl", ".csv"):
        raise AuditError(path, f"unknown extension {suffix!r}; expected .jsonl or .csv")
    records = _jsonl(path) if suffix == ".jsonl" else _csv(path)
    rows: list[HumanLabel] = []
    problems: list[Problem] = []
    for line, record in records:
        row = _row(path, line, record, problems)
        if row is not None:
            rows.append(row)
    _check_duplicates(path, rows, problems)
    if not rows and not problems:
        problems.append(Problem(str(path), "no labelled replies; expected at least one"))
    if problems:
        raise ValidationError(problems)
    return rows


def _jsonl(path: Path) -> Iterator[tuple[int, Any]]:
    for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not text.strip():
            continue
        try:
            yield number, json.loads(text)
        except json.JSONDecodeError as err:
            raise AuditError(path, f"not valid JSON ({err.msg}); expected one object per line",
                             line=number) from None


def _csv(path: Path) -> Iterator[tuple[int, Any]]:
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        unknown = [c for c in reader.fieldnames or [] if c not in REQUIRED + OPTIONAL]
        if unknown:
            raise AuditError(path, f"unknown column(s) {', '.join(map(repr, unknown))}; expected "
                             f"{', '.join(REQUIRED + OPTIONAL)}", line=1)
        for record in reader:
            yield reader.line_num, {k: v for k, v in record.items() if v not in (None, "")
                                    or k in ("reply", "prompt")}


def _row(path: Path, line: int, record: Any, problems: list[Problem]) -> HumanLabel | None:
    def bad(message: str, field: str | None = None) -> None:
        problems.append(Problem(str(path), message, field=field, line=line))

    if not isinstance(record, dict):
        bad(f"expected an object with {', '.join(REQUIRED)}, got {type(record).__name__}")
        return None
    for key in record:
        if key not in REQUIRED + OPTIONAL:
            bad(f"unknown field; expected one of {', '.join(REQUIRED + OPTIONAL)}", key)
    for key, value in record.items():
        if key in REQUIRED + OPTIONAL and not isinstance(value, (str, bool)) and value is not None:
            bad(f"expected a string, got {type(value).__name__}", key)
    missing = [k for k in REQUIRED if not isinstance(record.get(k), str)]
    for key in missing:
        bad("missing; every row needs prompt, reply and label", key)
    given = str(record.get("label", "")).strip().lower()
    label = THREE_WAY.get(given) or DECISIONS.get(given)
    if "label" not in missing and label is None:
        bad(f"unknown label {record['label']!r}; expected {LABEL_HELP}", "label")
    expect = _choice(record.get("expect"), {"refuse": "refuse", "comply": "comply"},
                     "expect", "refuse or comply", bad)
    harmful = _choice(record.get("harmful"), BOOLEANS, "harmful", "true or false", bad)
    if missing or label is None or len(problems) and problems[-1].line == line:
        return None
    return HumanLabel(line, record["prompt"], record["reply"], label,
                      str(record.get("model") or ""), str(record.get("prompt_type") or ""),
                      expect, harmful)


def _choice(value: Any, allowed: dict[str, Any], field: str, expected: str,
            bad: Callable[[str, str], None]) -> Any:
    if value is None:
        return None
    key = str(value).strip().lower()
    if key not in allowed:
        bad(f"unknown value {value!r}; expected {expected}", field)
        return None
    return allowed[key]


def _check_duplicates(path: Path, rows: list[HumanLabel], problems: list[Problem]) -> None:
    first: dict[tuple[str, str], int] = {}
    for row in rows:
        key = (row.model, row.prompt)
        if key in first:
            problems.append(Problem(str(path), f"the same model and prompt as line {first[key]}; "
                                    "expected one reply per model and prompt", field="prompt",
                                    line=row.line))
        first.setdefault(key, row.line)
