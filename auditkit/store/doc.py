"""docs/run-format.md's field tables, generated from the typed schema (so they cannot drift).

Each table sits between ``<!-- generated: NAME -->`` and ``<!-- end: NAME -->`` in the doc;
:func:`update_doc` rewrites them, and a test checks that the doc holds what
:func:`doc_tables` generates.
"""
from __future__ import annotations

import re
from pathlib import Path

from auditkit.paths import REPO_DIR
from auditkit.store.codec import field_rows
from auditkit.store.manifest import RunManifest
from auditkit.store.schema import RESULT_COLUMNS, ROW_PARTS

DOC_PATH = REPO_DIR / "docs" / "run-format.md"


def results_table() -> str:
    """| column | type | meaning | of results.parquet, in column order."""
    lines = ["| column | type | meaning |", "|---|---|---|"]
    for part in ROW_PARTS:
        for name, _, text in field_rows(part):
            lines.append(f"| `{name}` | {RESULT_COLUMNS[name]} | {text} |")
    return "\n".join(lines)


def manifest_table() -> str:
    """| field | type | meaning | of manifest.json, nested fields as ``models[].name``."""
    lines = ["| field | type | meaning |", "|---|---|---|",
             "| `schema` | integer | format version: 1 |"]
    lines += [f"| `{name}` | {kind} | {text} |" for name, kind, text in field_rows(RunManifest)]
    return "\n".join(lines)


def doc_tables() -> dict[str, str]:
    return {"results-columns": results_table(), "manifest-fields": manifest_table()}


def _block(name: str) -> re.Pattern[str]:
    return re.compile(rf"<!-- generated: {name} -->\n(.*?)<!-- end: {name} -->", re.S)


def documented(text: str) -> dict[str, str | None]:
    """The generated blocks found in ``text`` (None for a missing one)."""
    found = {name: _block(name).search(text) for name in doc_tables()}
    return {name: m.group(1).removesuffix("\n") if m else None for name, m in found.items()}


def update_doc(path: Path = DOC_PATH) -> bool:
    """Rewrite the generated tables of ``path``; True when it changed."""
    text = path.read_text(encoding="utf-8")
    new = text
    for name, table in doc_tables().items():
        found = _block(name).search(new)
        if found:
            new = new[:found.start(1)] + table + "\n" + new[found.end(1):]
    if new != text:
        path.write_text(new, encoding="utf-8")
    return new != text
