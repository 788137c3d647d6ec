"""A probe's version: a hash of everything that affects how its items are scored.

version = sha256(canonical JSON of {name, kind, scoring with defaults, items without meta})[:16]
Canonical JSON: keys sorted, separators ``,`` and ``:``, non-ASCII kept, UTF-8 encoded.
Descriptions, sources, licenses, categories, dimensions and item ``meta`` do not enter it, nor
the scoring keys the kind lists as ``unversioned_scoring`` (how a generation probe's replies
are judged: ``judge``, ``judge_args``, ``fail_on``, ``record_harmful``), so a new judge keeps
the cached replies and re-judges them.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

from auditkit.probes.items import item_to_dict
from auditkit.probes.kinds import find_kind
from auditkit.types import Item

VERSION_LENGTH = 16


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def probe_version(name: str, kind: str, scoring: Mapping[str, Any],
                  items: Sequence[Item]) -> str:
    """The first 16 hex digits of the SHA-256 of the probe's scoring-relevant content."""
    registered = find_kind(kind)
    unversioned = registered.unversioned_scoring if registered is not None else frozenset()
    content = {
        "name": name,
        "kind": kind,
        "scoring": {k: v for k, v in scoring.items() if k not in unversioned},
        "items": [item_to_dict(item, meta=False) for item in items],
    }
    return hashlib.sha256(canonical_json(content).encode("utf-8")).hexdigest()[:VERSION_LENGTH]
