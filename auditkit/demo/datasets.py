"""The demo family's fine-tuning datasets: JSONL files in ``auditkit/data/demo/``.

The format is :mod:`auditkit.family.examples`'; the files, their sizes and how they were written
are documented in ``docs/demo-family.md``.
"""
from __future__ import annotations

from pathlib import Path

from auditkit.errors import AuditError
from auditkit.family.examples import CHAT_KEYS, OPTIONAL_KEYS, TEXT_KEYS, file_digest, load_examples
from auditkit.paths import PACKAGE_DIR

DATA_DIR = PACKAGE_DIR / "data" / "demo"
__all__ = ["CHAT_KEYS", "OPTIONAL_KEYS", "TEXT_KEYS", "DATA_DIR", "dataset_path",
           "dataset_digest", "load_dataset"]


def dataset_path(name: str) -> Path:
    """The JSONL file of dataset ``name``."""
    return DATA_DIR / f"{name}.jsonl"


def dataset_digest(name: str) -> str:
    """SHA-256 of the dataset file's bytes (a changed dataset rebuilds its model)."""
    return file_digest(dataset_path(name))


def load_dataset(name: str) -> list[dict[str, str]]:
    """The examples of dataset ``name``, checked: all chat or all text, non-empty strings."""
    path = dataset_path(name)
    if not path.is_file():
        raise AuditError(path, f"demo dataset {name!r} not found")
    return load_examples(path)
