"""The probe format's vocabulary: spec keys, name patterns and typed field readers.

What belongs to one probe kind (its item keys, scoring options) is in
:mod:`auditkit.probes.kinds`. Each reader takes the raw mapping, a key and the file's
:class:`Issues`; it returns the value when it is well formed and records a problem (with the
key's line) when it is not.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from auditkit.probes.source import Issues, line_of

NAME_RE = re.compile(r"[a-z0-9][a-z0-9_.-]*")
ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]*")

SPEC_REQUIRED = ("name", "kind", "category", "dimension", "description", "source", "license")
ITEM_SOURCES = ("items", "items_file", "templates")
SPEC_KEYS = frozenset(SPEC_REQUIRED + ITEM_SOURCES + ("scoring", "slots"))
TEMPLATE_KEYS = frozenset({"id", "slots", "item"})

NORMALIZE = ("none", "chars")              # log-likelihood kinds: sum, or per character


def describe(value: Any) -> str:
    """How a value found in a file is named in messages: ``a number (3)``, ``null``, ..."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, (int, float)):
        return f"a number ({value})"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"a string ({shown!r})"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


def check_keys(raw: Mapping[str, Any], allowed: frozenset[str], issues: Issues, *, what: str,
               item: str | None = None, prefix: str = "",
               also: frozenset[str] = frozenset()) -> None:
    """Record one problem per key of ``raw`` that is not in ``allowed`` (nor in ``also``: keys
    accepted but not listed in the message, e.g. deprecated ones)."""
    for key in raw:
        if key not in allowed and key not in also:
            issues.add(f"unknown key in {what}; expected one of: {', '.join(sorted(allowed))}",
                       field=prefix + str(key), line=line_of(raw, key), item=item)


def read_str(raw: Mapping[str, Any], key: str, issues: Issues, *, item: str | None = None,
             required: bool = True, empty: bool = False, prefix: str = "") -> str | None:
    """``raw[key]`` as a string (non-empty unless ``empty``); None and a problem otherwise."""
    if key not in raw:
        if required:
            issues.add("missing; expected a string", field=prefix + key, line=line_of(raw),
                       item=item)
        return None
    value = raw[key]
    if not isinstance(value, str) or (not empty and not value.strip()):
        wanted = "a string" if empty else "a non-empty string"
        issues.add(f"expected {wanted}, found {describe(value)}", field=prefix + key,
                   line=line_of(raw, key), item=item)
        return None
    return value


def read_choice(raw: Mapping[str, Any], key: str, allowed: tuple[str, ...], issues: Issues, *,
                item: str | None = None, required: bool = True,
                prefix: str = "") -> str | None:
    """``raw[key]`` as one of ``allowed``."""
    if key not in raw:
        if required:
            issues.add(f"missing; expected one of: {', '.join(allowed)}", field=prefix + key,
                       line=line_of(raw), item=item)
        return None
    value = raw[key]
    if value not in allowed or not isinstance(value, str):
        issues.add(f"expected one of: {', '.join(allowed)}; found {describe(value)}",
                   field=prefix + key, line=line_of(raw, key), item=item)
        return None
    return value


def read_int(raw: Mapping[str, Any], key: str, issues: Issues, *, item: str | None = None,
             minimum: int | None = None, prefix: str = "") -> int | None:
    """``raw[key]`` as an int (a boolean is not an int here), at least ``minimum``."""
    if key not in raw:
        issues.add("missing; expected an integer", field=prefix + key, line=line_of(raw),
                   item=item)
        return None
    value = raw[key]
    if isinstance(value, bool) or not isinstance(value, int):
        issues.add(f"expected an integer, found {describe(value)}", field=prefix + key,
                   line=line_of(raw, key), item=item)
        return None
    if minimum is not None and value < minimum:
        issues.add(f"expected an integer >= {minimum}, found {value}", field=prefix + key,
                   line=line_of(raw, key), item=item)
        return None
    return value


def is_mapping(value: Any, where: Mapping[str, Any], key: str, issues: Issues, *,
               item: str | None = None, prefix: str = "") -> bool:
    """True when ``value`` (found at ``where[key]``) is a mapping; records a problem if not."""
    if isinstance(value, Mapping):
        return True
    issues.add(f"expected a mapping, found {describe(value)}", field=prefix + key,
               line=line_of(where, key), item=item)
    return False
