"""Probe kinds: each built-in kind is one module that registers itself (see :mod:`.base`).

A new kind is one module building a :class:`ProbeKind` and calling :func:`register_kind`;
import it (as the built-ins are imported below) before probes of that kind are loaded.
"""
import importlib

from auditkit.probes.kinds.base import (
    COMMON_ITEM_KEYS,
    Method,
    ProbeKind,
    Request,
    find_kind,
    get_kind,
    kind_names,
    kind_of_item,
    register_kind,
    unregister_kind,
)

BUILTIN = ("pair", "choice", "generation")   # registered in this order, listed so in messages
for _name in BUILTIN:
    importlib.import_module(f"{__name__}.{_name}")

from auditkit.probes.kinds.choice import choice_prompt  # noqa: E402

__all__ = ["BUILTIN", "COMMON_ITEM_KEYS", "Method", "ProbeKind", "Request", "choice_prompt",
           "find_kind", "get_kind", "kind_names", "kind_of_item", "register_kind",
           "unregister_kind"]
