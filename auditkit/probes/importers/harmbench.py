"""HarmBench text behaviors (Mazeika et al. 2024) -> a ``generation`` probe, expect ``refuse``.

``harmbench_behaviors_text_all.csv``: Behavior, FunctionalCategory (standard, contextual,
copyright), SemanticCategory, Tags, ContextString, BehaviorID. A contextual behavior's prompt is
its context, a ``---`` rule, then the request, byte for byte as HarmBench's DirectRequest
baseline builds its test cases (``f"{context}\\n\\n---\\n\\n{behavior}"``, nothing
stripped). Copyright behaviors are left out (and counted in the notes): HarmBench judges them
by hashing the reply for verbatim reproduction, which a refusal detector cannot stand in for.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from auditkit.errors import AuditError
from auditkit.probes.importers._common import (
    ImportedProbe,
    clean,
    derived_name,
    item_id,
    unique_items,
)
from auditkit.probes.importers._reading import Reading, lenient
from auditkit.probes.importers._tables import Row, read_csv, text_field

SOURCE = "HarmBench (Mazeika et al. 2024), https://github.com/centerforaisafety/HarmBench"
LICENSE = "MIT"
COLUMNS = ("Behavior", "FunctionalCategory", "SemanticCategory", "Tags", "ContextString",
           "BehaviorID")
FUNCTIONAL = ("standard", "contextual", "copyright")
SEMANTIC_RE = re.compile(r"[a-z][a-z_]*")  # e.g. chemical_biological, harassment_bullying
CANONICAL = ("harmbench_behaviors_text_all.csv",)
# HarmBench's attack success rate counts replies that give the harmful help asked for, so the
# judge also records harmful compliance (the native metric reads it; see analyze/native)
SCORING = {"record_harmful": True}


def read_harmbench(src: Path, reading: Reading | None = None) -> ImportedProbe:
    """The standard and contextual behaviors of a HarmBench behaviors CSV."""
    reading = lenient(reading)
    # HarmBench opens the CSV with open(path, "r", encoding="utf-8") and csv.DictReader:
    # universal newlines, so a CRLF inside a context reads as LF in its prompts too
    rows = reading.each(read_csv(src, COLUMNS, reading, universal_newlines=True),
                        lambda row: _checked(src, row))
    check_columns(src, rows)
    kept = [row for row in rows if row["FunctionalCategory"] != "copyright"]
    numbered = reading.each(kept, lambda row: (row.line, _item(src, row)))
    items, notes = unique_items(src, numbered, reading)
    if len(kept) < len(rows):
        notes += (f"left out {len(rows) - len(kept)} copyright behavior(s): HarmBench judges "
                  "them by verbatim reproduction, not refusal",)
    return ImportedProbe(
        name=derived_name("safety.harmbench", src, CANONICAL), kind="generation",
        category="safety", dimension="harmful",
        description=("HarmBench behaviors (standard and contextual), asked directly; fails "
                     "when the model does not refuse."),
        source=f"{SOURCE} ({src.name})", license=LICENSE, items=items, notes=notes,
        scoring=SCORING)


def _checked(path: Path, row: Row) -> Row:
    """``row`` when its categories are HarmBench's (a swapped column fails here first)."""
    if row["FunctionalCategory"] not in FUNCTIONAL:
        raise AuditError(path, f"expected FunctionalCategory one of {', '.join(FUNCTIONAL)}; "
                               f"found {row['FunctionalCategory']!r}", field="FunctionalCategory",
                         line=row.line)
    if not SEMANTIC_RE.fullmatch(row["SemanticCategory"]):
        raise AuditError(path, "expected a SemanticCategory in lower_snake_case (e.g. "
                               f"chemical_biological); found {row['SemanticCategory']!r}",
                         field="SemanticCategory", line=row.line)
    return row


def check_columns(path: Path, rows: list[Row]) -> None:
    """Raise when 'Behavior' and 'ContextString' look swapped: the context is the long text
    the short request is about."""
    contextual = [row for row in rows
                  if row["FunctionalCategory"] == "contextual" and row["ContextString"].strip()]
    longer = sum(len(row["Behavior"]) > len(row["ContextString"]) for row in contextual)
    if contextual and 2 * longer > len(contextual):
        raise AuditError(path, f"in {longer} of {len(contextual)} contextual behaviors the "
                               "'Behavior' is longer than the 'ContextString'; expected the "
                               "short request under 'Behavior' and the text it is about under "
                               "'ContextString' (columns swapped or mislabelled?)",
                         field="ContextString", line=1)


def _item(path: Path, row: Row) -> dict[str, Any]:
    # no stripping anywhere: the prompt is byte for byte the one HarmBench's DirectRequest
    # builds (``if context_str: f"{context_str}\n\n---\n\n{behavior}"``)
    behavior, context = text_field(path, row, "Behavior"), row["ContextString"]
    if row["FunctionalCategory"] == "contextual" and not context.strip():
        raise AuditError(path, "a contextual behavior needs a ContextString, found none",
                         field="ContextString", line=row.line)
    prompt = f"{context}\n\n---\n\n{behavior}" if context else behavior
    tags = [tag.strip() for tag in row["Tags"].split(",") if tag.strip()]
    return {
        "id": item_id(row["BehaviorID"], path, row.line, "BehaviorID"),
        "prompt": prompt, "expect": "refuse", "group": row["SemanticCategory"],
        "meta": clean({"functional_category": row["FunctionalCategory"],
                       "semantic_category": row["SemanticCategory"], "tags": tags,
                       "behavior": behavior if context else "", "has_context": bool(context)}),
    }
