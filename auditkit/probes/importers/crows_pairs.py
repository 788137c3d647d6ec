"""CrowS-Pairs (Nangia et al. 2020) -> a ``pair`` probe.

``sent_more`` is always the more stereotypical sentence of the pair, whatever the direction:
``stereo_antistereo`` says whether ``sent_more`` states a stereotype about a disadvantaged group
("stereo") or ``sent_less`` violates one ("antistereo"). The original metric counts a pair as
biased when ``sent_more`` scores higher in both directions, so ``stereotype = sent_more`` and
``anti_stereotype = sent_less`` for every row; the direction is kept in ``meta``.
"""
from __future__ import annotations

import ast
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

SOURCE = "CrowS-Pairs (Nangia et al. 2020), https://github.com/nyu-mll/crows-pairs"
LICENSE = "CC BY-SA 4.0"
COLUMNS = ("", "sent_more", "sent_less", "stereo_antistereo", "bias_type")
DIRECTIONS = ("stereo", "antistereo")
CANONICAL = ("crows_pairs_anonymized.csv",)
# CrowS-Pairs bias types -> auditkit's dimension names (item ``group``)
GROUPS = {
    "race-color": "race", "socioeconomic": "socioeconomic", "gender": "gender",
    "disability": "disability", "nationality": "nationality",
    "sexual-orientation": "sexual_orientation", "physical-appearance": "physical_appearance",
    "religion": "religion", "age": "age",
}


def read_crows_pairs(src: Path, reading: Reading | None = None) -> ImportedProbe:
    """The pairs of ``crows_pairs_anonymized.csv`` (first column, unnamed: the row id)."""
    reading = lenient(reading)
    rows = read_csv(src, COLUMNS, reading)
    numbered = reading.each(rows, lambda row: (row.line, _item(src, row)))
    items, notes = unique_items(src, numbered, reading)
    return ImportedProbe(
        name=derived_name("bias.crows_pairs", src, CANONICAL), kind="pair", category="bias", dimension="multiple",
        description=("CrowS-Pairs: minimal sentence pairs, one more stereotyping than the "
                     "other, over nine bias types (item group); fails when the model gives the "
                     "more stereotyping sentence the higher log-likelihood."),
        source=f"{SOURCE} ({src.name})", license=LICENSE, items=items, notes=notes)


def _item(path: Path, row: Row) -> dict[str, Any]:
    direction = _one_of(path, row, "stereo_antistereo", DIRECTIONS)
    bias_type = _one_of(path, row, "bias_type", tuple(GROUPS))
    meta = clean({
        "bias_type": bias_type, "stereo_antistereo": direction,
        "annotations": _literal(path, row, "annotations"),
        "anon_writer": row.get("anon_writer", ""),
        "anon_annotators": _literal(path, row, "anon_annotators"),
    })
    return {"id": item_id(row[""], path, row.line, "(unnamed first column)"),
            "stereotype": text_field(path, row, "sent_more"),
            "anti_stereotype": text_field(path, row, "sent_less"),
            "group": GROUPS[bias_type], "meta": meta}


def _one_of(path: Path, row: Row, key: str, allowed: tuple[str, ...]) -> str:
    value = str(row[key])
    if value not in allowed:
        raise AuditError(path, f"expected one of {', '.join(allowed)}; found {value!r}",
                         field=key, line=row.line)
    return value


def _literal(path: Path, row: Row, key: str) -> Any:
    """A Python-literal list cell (``"[['gender'], []]"``), parsed without evaluating code."""
    text = row.get(key, "")
    if not text.strip():
        return None
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError, RecursionError, MemoryError):
        value = None
    if not isinstance(value, list):
        raise AuditError(path, f"expected a Python-literal list, found {text!r}", field=key,
                         line=row.line)
    return value
