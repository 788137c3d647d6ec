"""Items: checking one raw item mapping of a given kind and building its core dataclass.

:func:`parse_item` runs the checks every kind shares (id, group, meta, unknown keys), then the
kind's own reader (:mod:`auditkit.probes.kinds`). Every problem is recorded, none raised.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from typing import Any

from auditkit.probes.kinds import get_kind
from auditkit.probes.schema import ID_RE, check_keys, describe, read_str
from auditkit.probes.source import Issues, line_of, plain
from auditkit.types import Item


def parse_item(kind: str, raw: Any, issues: Issues, *, line: int | None = None) -> Item | None:
    """The item built from ``raw``, or None when anything is wrong (every problem recorded).

    ``line`` is used when ``raw`` carries no line of its own (it is not a mapping).
    """
    if not isinstance(raw, Mapping):
        issues.add(f"expected an item mapping, found {describe(raw)}", field="items", line=line)
        return None
    probe_kind = get_kind(kind)
    before = len(issues.problems)
    item_id = read_id(raw, issues)
    check_keys(raw, probe_kind.allowed_item_keys, issues, what=f"a {kind} item", item=item_id)
    group = read_str(raw, "group", issues, item=item_id, required=False, empty=True) or ""
    meta = _read_meta(raw, issues, item_id)
    values = probe_kind.read_item(raw, issues, item_id)
    if len(issues.problems) > before or values is None or item_id is None:
        return None
    return probe_kind.item_type(id=item_id, group=group, meta=meta, **values)


def read_id(raw: Mapping[str, Any], issues: Issues) -> str | None:
    """The item's id: a string matching ``[A-Za-z0-9][A-Za-z0-9_.:-]*``."""
    value = raw.get("id")
    if "id" not in raw:
        issues.add("missing; expected an item id (a string)", field="id", line=line_of(raw))
    elif not isinstance(value, str) or not ID_RE.fullmatch(value):
        issues.add(f"expected an id matching [A-Za-z0-9][A-Za-z0-9_.:-]*, found {describe(value)}",
                   field="id", line=line_of(raw, "id"))
    else:
        return value
    return None


def _read_meta(raw: Mapping[str, Any], issues: Issues, item_id: str | None) -> dict[str, Any]:
    value = raw.get("meta", {})
    if not isinstance(value, Mapping):
        issues.add(f"expected a mapping, found {describe(value)}", field="meta",
                   line=line_of(raw, "meta"), item=item_id)
        return {}
    return dict(plain(value))


def item_to_dict(item: Item, *, meta: bool = True) -> dict[str, Any]:
    """The item as it is written in a probe file (``options`` as a list); ``meta`` optional."""
    data: dict[str, Any] = {}
    for f in fields(item):
        value = getattr(item, f.name)
        if (f.name == "meta" and (not meta or not value)) or (f.metadata.get("omit_empty")
                                                               and not value):
            continue
        data[f.name] = list(value) if isinstance(value, tuple) else plain(value)
    return data
