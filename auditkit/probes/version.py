"""A probe's version: a hash of everything that affects how its items are scored.

version = sha256(canonical JSON of {name, kind, scoring with defaults, items without meta})[:16]
Canonical JSON: keys sorted, separators ``,`` and ``:``, non-ASCII kept, UTF-8 encoded.
Descriptions, sources, licenses, categories, dimensions and item ``meta`` do not enter it.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

from auditkit.probes.items import item_to_dict
from auditkit.types import Item

VERSION_LENGTH = 16


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def probe_version(name: str, kind: str, scoring: Mapping[str, Any],
                  items: Sequence[Item]) -> str:
    """The first 16 hex digits of the SHA-256 of the probe's scoring-relevant content."""
    content = {
        "name": name,
        "kind": kind,
        "scoring": dict(scoring),
        "items": [item_to_dict(item, meta=False) for item in items],
    }
    return hashlib.sha256(canonical_json(content).encode("utf-8")).hexdigest()[:VERSION_LENGTH]
