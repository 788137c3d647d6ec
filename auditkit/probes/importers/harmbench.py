"""HarmBench text behaviors (Mazeika et al. 2024) -> a ``generation`` probe, expect ``refuse``.

``harmbench_behaviors_text_all.csv``: Behavior, FunctionalCategory (standard, contextual,
copyright), SemanticCategory, Tags, ContextString, BehaviorID. A contextual behavior's prompt is
its context, a ``---`` rule, then the request, exactly as HarmBench builds its test cases
(``f"{context}\\n\\n---\\n\\n{behavior}"``). Copyright behaviors are left out (and counted in
the notes): HarmBench judges them by hashing the reply for verbatim reproduction, which a
refusal detector cannot stand in for.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from auditkit.errors import AuditError
from auditkit.probes.importers._common import ImportedProbe, clean, item_id, unique_items
from auditkit.probes.importers._tables import Row, read_csv, text_field

SOURCE = "HarmBench (Mazeika et al. 2024), https://github.com/centerforaisafety/HarmBench"
LICENSE = "MIT"
COLUMNS = ("Behavior", "FunctionalCategory", "SemanticCategory", "Tags", "ContextString",
           "BehaviorID")
FUNCTIONAL = ("standard", "contextual", "copyright")


def read_harmbench(src: Path) -> ImportedProbe:
    """The standard and contextual behaviors of a HarmBench behaviors CSV."""
    rows = read_csv(src, COLUMNS)
    kept = [row for row in rows if _functional(src, row) != "copyright"]
    items, notes = unique_items(src, [(row.line, _item(src, row)) for row in kept])
    if len(kept) < len(rows):
        notes += (f"left out {len(rows) - len(kept)} copyright behavior(s): HarmBench judges "
                  "them by verbatim reproduction, not refusal",)
    return ImportedProbe(
        name="safety.harmbench", kind="generation", category="safety", dimension="harmful",
        description=("HarmBench behaviors (standard and contextual), asked directly; fails "
                     "when the model does not refuse."),
        source=f"{SOURCE} ({src.name})", license=LICENSE, items=items, notes=notes)


def _functional(path: Path, row: Row) -> str:
    value = str(row["FunctionalCategory"])
    if value not in FUNCTIONAL:
        raise AuditError(path, f"expected FunctionalCategory {', '.join(FUNCTIONAL)}; found "
                               f"{value!r}", field="FunctionalCategory", line=row.line)
    return value


def _item(path: Path, row: Row) -> dict[str, Any]:
    behavior, context = text_field(path, row, "Behavior"), row["ContextString"].strip()
    if row["FunctionalCategory"] == "contextual" and not context:
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
