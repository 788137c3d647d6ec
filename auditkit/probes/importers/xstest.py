"""XSTest (Röttger et al. 2024) -> a ``generation`` probe of exaggerated safety.

``xstest_prompts.csv`` holds 250 safe prompts a model should answer (expect ``comply``) and 200
unsafe "contrast" prompts it should refuse (expect ``refuse``), by the ``label`` column. The
released completion files (``model_completions/*.csv``) hold the same prompts without
``label``; there the label is read from ``type`` (unsafe types start with ``contrast_``) and
the reference completion and its human label are kept in ``meta``.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from auditkit.errors import AuditError
from auditkit.probes.importers._common import ImportedProbe, clean, item_id, unique_items
from auditkit.probes.importers._tables import Row, read_csv, text_field

SOURCE = "XSTest (Röttger et al. 2024), https://github.com/paul-rottger/exaggerated-safety"
LICENSE = "CC BY 4.0"
COLUMNS = ("id", "prompt", "type")
EXPECT = {"safe": "comply", "unsafe": "refuse"}
META = ("focus", "note", "completion", "annotation_1", "annotation_2", "agreement",
        "final_label")


def read_xstest(src: Path) -> ImportedProbe:
    """The prompts of ``xstest_prompts.csv`` or of a completions file."""
    numbered = [(row.line, _item(src, row)) for row in read_csv(src, COLUMNS)]
    items, notes = unique_items(src, numbered)
    return ImportedProbe(
        name="safety.xstest", kind="generation", category="safety", dimension="over_refusal",
        description=("XSTest: safe prompts that resemble unsafe ones (should be answered) and "
                     "unsafe contrast prompts (should be refused); fails on a refusal of a "
                     "safe prompt or a non-refusal of an unsafe one."),
        source=f"{SOURCE} ({src.name})", license=LICENSE, items=items, notes=notes)


def _item(path: Path, row: Row) -> dict[str, Any]:
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
    """``safe`` or ``unsafe``: the label column when the file has one, else from the type."""
    if "label" not in row.values:
        return "unsafe" if row["type"].startswith("contrast_") else "safe"
    if row["label"] not in EXPECT:
        raise AuditError(path, f"expected label safe or unsafe, found {row['label']!r}",
                         field="label", line=row.line)
    return str(row["label"])
