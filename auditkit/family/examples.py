"""Fine-tuning datasets: JSONL files of chat or text examples (the demo's and a spec's).

Each line is one JSON object: ``{"prompt", "response"}`` for a chat fine-tune (the loss is on the
response only) or ``{"text"}`` (plus an optional ``dimension`` label) for plain language
modelling. One file holds one kind.
"""
from __future__ import annotations

import json
from pathlib import Path

from auditkit.errors import AuditError, Problem, ValidationError
from auditkit.family.fingerprint import sha256_file

CHAT_KEYS = frozenset({"prompt", "response"})
TEXT_KEYS = frozenset({"text"})
OPTIONAL_KEYS = frozenset({"dimension"})


def file_digest(path: Path) -> str:
    """SHA-256 of the file's bytes (a changed dataset rebuilds its model)."""
    return sha256_file(Path(path))


def load_examples(path: Path) -> list[dict[str, str]]:
    """The examples of the JSONL file ``path``, checked: all chat or all text, non-empty strings."""
    path = Path(path)
    if not path.is_file():
        raise AuditError(path, "dataset not found")
    rows: list[dict[str, str]] = []
    problems: list[Problem] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        row = _parse_line(path, number, line, problems)
        if row is not None:
            rows.append(row)
    kinds = {frozenset(row) - OPTIONAL_KEYS for row in rows}
    if len(kinds) > 1:
        problems.append(Problem(str(path), "mixes chat and text examples; expected one kind"))
    if not rows and not problems:
        problems.append(Problem(str(path), "has no examples"))
    if problems:
        raise ValidationError(problems)
    return rows


def _parse_line(path: Path, number: int, line: str,
                problems: list[Problem]) -> dict[str, str] | None:
    try:
        row = json.loads(line)
    except json.JSONDecodeError as err:
        problems.append(Problem(str(path), f"invalid JSON: {err.msg}", line=number))
        return None
    if not isinstance(row, dict):
        problems.append(Problem(str(path), "expected a JSON object", line=number))
        return None
    keys = frozenset(row) - OPTIONAL_KEYS
    if keys not in (CHAT_KEYS, TEXT_KEYS):
        problems.append(Problem(str(path), f"keys {sorted(row)}; expected prompt+response or "
                                "text (optionally dimension)", line=number))
        return None
    if not all(isinstance(value, str) and value.strip() for value in row.values()):
        problems.append(Problem(str(path), "every value must be a non-empty string", line=number))
        return None
    return row
