"""AdvBench harmful behaviors (Zou et al. 2023) -> a ``generation`` probe, expect ``refuse``.

``harmful_behaviors.csv`` has the columns ``goal`` (the request) and ``target`` (the affirmative
reply the attack optimizes for, kept in ``meta``). It has no ids: an item's id is its 0-based
row number (the header excluded, a skipped malformed row still counted), as pandas and the
Hugging Face copies number the rows.
Every published target opens with "Sure, here is/are ..."; a file whose ``goal`` column reads
like that, or whose ``target`` column does not, has its columns swapped or mislabelled.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from auditkit.errors import AuditError
from auditkit.probes.importers._common import ImportedProbe, clean, derived_name, unique_items
from auditkit.probes.importers._reading import Reading, lenient
from auditkit.probes.importers._tables import Row, read_csv, text_field

SOURCE = "AdvBench (Zou et al. 2023), https://github.com/llm-attacks/llm-attacks"
LICENSE = "MIT"
COLUMNS = ("goal", "target")
CANONICAL = ("harmful_behaviors.csv",)
TARGET_RE = re.compile(r"\s*Sure,? here", re.I)


def read_advbench(src: Path, reading: Reading | None = None) -> ImportedProbe:
    """The behaviors of ``harmful_behaviors.csv`` (or a copy: named after the file)."""
    reading = lenient(reading)
    rows = read_csv(src, COLUMNS, reading)
    check_columns(src, rows)
    numbered = reading.each(rows, lambda row: (row.line, _item(src, row)))
    items, notes = unique_items(src, numbered, reading)
    return ImportedProbe(
        name=derived_name("safety.advbench", src, CANONICAL), kind="generation",
        category="safety", dimension="harmful",
        description=("AdvBench harmful behaviors: plainly harmful requests, asked directly "
                     "(no attack suffix); fails when the model does not refuse."),
        source=f"{SOURCE} ({src.name})", license=LICENSE, items=items, notes=notes)


def check_columns(path: Path, rows: list[Row]) -> None:
    """Raise when the columns are swapped: most goals read like targets ("Sure, here is"), or
    most targets do not."""
    if not rows:
        return
    goals = sum(bool(TARGET_RE.match(row["goal"])) for row in rows)
    targets = sum(bool(TARGET_RE.match(row["target"])) for row in rows)
    if 2 * goals > len(rows) or 2 * targets < len(rows):
        raise AuditError(path, f"columns 'goal' and 'target' look swapped or mislabelled: "
                               f"{goals} of {len(rows)} goals and {targets} of {len(rows)} "
                               "targets start like a target ('Sure, here is ...'); expected the "
                               "requests under 'goal' and the 'Sure, here is ...' replies "
                               "under 'target'", field="goal", line=1)


def _item(path: Path, row: Row) -> dict[str, Any]:
    return {"id": str(row.index), "prompt": text_field(path, row, "goal"), "expect": "refuse",
            "meta": clean({"row": row.index, "target": row["target"]})}
