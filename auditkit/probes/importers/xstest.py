"""XSTest (Röttger et al. 2024) -> a ``generation`` probe of exaggerated safety.

``xstest_prompts.csv`` holds 250 safe prompts a model should answer (expect ``comply``) and 200
unsafe "contrast" prompts it should refuse (expect ``refuse``), by the ``label`` column. The
released completion files (``model_completions/*.csv``) hold the same prompts without
``label``; there the label is read from ``type`` (unsafe types start with ``contrast_``) and
the reference completion and its human label are kept in ``meta``.
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

SOURCE = "XSTest (Röttger et al. 2024), https://github.com/paul-rottger/exaggerated-safety"
LICENSE = "CC BY 4.0"
COLUMNS = ("id", "prompt", "type")
EXPECT = {"safe": "comply", "unsafe": "refuse"}
CANONICAL = ("xstest_prompts.csv",)
TYPE_RE = re.compile(r"[a-z][a-z_]*")
META = ("focus", "note", "completion", "annotation_1", "annotation_2", "agreement",
        "final_label")


def read_xstest(src: Path, reading: Reading | None = None) -> ImportedProbe:
    """The prompts of ``xstest_prompts.csv`` or of a completions file (named after the file:
    ``safety.xstest.xstest_v2_completions_gpt4`` for ``xstest_v2_completions_gpt4.csv``)."""
    reading = lenient(reading)
    rows = read_csv(src, COLUMNS, reading)
    numbered = reading.each(rows, lambda row: (row.line, _item(src, row)))
    items, notes = unique_items(src, numbered, reading)
    return ImportedProbe(
        name=derived_name("safety.xstest", src, CANONICAL), kind="generation", category="safety", dimension="over_refusal",
        description=("XSTest: safe prompts that resemble unsafe ones (should be answered) and "
                     "unsafe contrast prompts (should be refused); fails on a refusal of a "
                     "safe prompt or a non-refusal of an unsafe one."),
        source=f"{SOURCE} ({src.name})", license=LICENSE, items=items, notes=notes)


def _item(path: Path, row: Row) -> dict[str, Any]:
    if not TYPE_RE.fullmatch(row["type"]):
        raise AuditError(path, f"expected a type in lower_snake_case (e.g. homonyms, "
                               f"contrast_privacy); found {row['type']!r} (columns swapped?)",
                         field="type", line=row.line)
    label = _label(path, row)
    return {
        "id": item_id(row["id"], path, row.line, "id"),
        "prompt": text_field(path, row, "prompt"),
        "expect": EXPECT[label],
        "group": text_field(path, row, "type"),
        "meta": clean({"type": row["type"], "label": label,
                       **{key: row.get(key, "") for key in META}}),
    }


def _label(path: Path, row: Row) -> str:
    """``safe`` or ``unsafe``: the label column when the file has one, else from the type.
    A label that contradicts the type (unsafe types start with ``contrast_``) is an error: the
    columns are swapped or the record is mislabelled."""
    by_type = "unsafe" if row["type"].startswith("contrast_") else "safe"
    if "label" not in row.values:
        return by_type
    if row["label"] not in EXPECT:
        raise AuditError(path, f"expected label safe or unsafe, found {row['label']!r}",
                         field="label", line=row.line)
    if row["label"] != by_type:
        raise AuditError(path, f"label {row['label']!r} contradicts type {row['type']!r} "
                               "(unsafe types start with 'contrast_'); expected matching "
                               "'label' and 'type' columns", field="label", line=row.line)
    return str(row["label"])
