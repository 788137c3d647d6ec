"""Strict JSON <-> frozen dataclasses, driven by the dataclasses' own type hints.

The run manifest is declared once, as dataclasses; reading, writing and its documentation
(docs/run-format.md) all follow from the declaration, so a new field is one line. Supported
field types: ``str``, ``int``, ``float``, ``bool``, ``X | None``, ``tuple[X, ...]``,
``dict[str, X]`` and nested dataclasses. Decoding is strict: an unknown key, a missing required field or a value of the
wrong type is an :class:`AuditError` naming the file and the field (``models[2].parent``).
"""
from __future__ import annotations

import dataclasses
import json
import types
from pathlib import Path
from typing import Any, TypeVar, Union, get_args, get_origin, get_type_hints

from auditkit.errors import AuditError

T = TypeVar("T")
_NAMES = {str: "a string", int: "an integer", float: "a number", bool: "true or false"}
_DOC_TYPES = {str: "string", int: "integer", float: "number", bool: "bool"}


def doc(text: str, default: Any = dataclasses.MISSING) -> Any:
    """A dataclass field with its documentation; with ``default`` it may be absent."""
    return dataclasses.field(default=default, metadata={"doc": text})


def decode(cls: type[T], value: object, path: Path, where: str = "") -> T:
    """The dataclass ``cls`` from the JSON object ``value`` found at ``where`` in ``path``."""
    if not isinstance(value, dict):
        raise AuditError(path, f"expected an object, found {_found(value)}", field=where or None)
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = [k for k in value if k not in fields]
    if unknown:
        raise AuditError(path, f"unknown key; expected one of: {', '.join(fields)}",
                         field=_join(where, str(unknown[0])))
    hints = get_type_hints(cls)
    kwargs: dict[str, Any] = {}
    for name, f in fields.items():
        if name in value:
            kwargs[name] = _value(hints[name], value[name], path, _join(where, name))
        elif _required(f):
            raise AuditError(path, f"missing; expected {describe(hints[name])}",
                             field=_join(where, name))
    return cls(**kwargs)


def _value(tp: Any, value: object, path: Path, where: str, expected: str = "") -> Any:
    origin, args = get_origin(tp), get_args(tp)
    if origin in (Union, types.UnionType):
        if value is None:
            return None
        return _value(_optional(tp), value, path, where, describe(tp))
    if origin is tuple:
        if not isinstance(value, list):
            raise AuditError(path, f"expected {expected or 'a list'}, found {_found(value)}",
                             field=where)
        return tuple(_value(args[0], v, path, f"{where}[{j}]") for j, v in enumerate(value))
    if origin is dict:
        if not isinstance(value, dict):
            raise AuditError(path, f"expected {expected or 'an object'}, found {_found(value)}",
                             field=where)
        return {k: _value(args[1], v, path, _join(where, k)) for k, v in value.items()}
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return decode(tp, value, path, where)
    if _fits(tp, value):
        return float(value) if tp is float else value   # type: ignore[arg-type]
    raise AuditError(path, f"expected {expected or describe(tp)}, found {_found(value)}",
                     field=where)


def _fits(tp: Any, value: object) -> bool:
    if isinstance(value, bool):          # JSON true is not a number
        return tp is bool
    if tp is float:
        return isinstance(value, (int, float))
    return tp in _NAMES and isinstance(value, tp)


def encode(obj: Any) -> Any:
    """A dataclass (recursively) as JSON values: objects in field order, tuples as lists."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: encode(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, (tuple, list)):
        return [encode(v) for v in obj]
    if isinstance(obj, dict):
        return {k: encode(v) for k, v in obj.items()}
    return obj


def describe(tp: Any) -> str:
    """What a value of type ``tp`` looks like in JSON, for error messages."""
    if get_origin(tp) in (Union, types.UnionType):
        return f"{describe(_optional(tp))} or null"
    if get_origin(tp) is tuple:
        return "a list"
    if get_origin(tp) is dict or dataclasses.is_dataclass(tp):
        return "an object"
    return _NAMES.get(tp, str(tp))


def field_rows(cls: type, prefix: str = "") -> list[tuple[str, str, str]]:
    """(dotted path, JSON type, documentation) of every field of ``cls``, nested ones after
    their parent (``models[].name``); what docs/run-format.md tabulates."""
    rows: list[tuple[str, str, str]] = []
    hints = get_type_hints(cls)
    for f in dataclasses.fields(cls):
        tp, name = hints[f.name], prefix + f.name
        note = "" if _required(f) else f" (optional, default `{json.dumps(encode(f.default))}`)"
        rows.append((name, doc_type(tp), f.metadata.get("doc", "") + note))
        inner = _optional(tp) if get_origin(tp) in (Union, types.UnionType) else tp
        if get_origin(inner) is tuple and dataclasses.is_dataclass(get_args(inner)[0]):
            rows += field_rows(get_args(inner)[0], f"{name}[].")
        elif dataclasses.is_dataclass(inner):
            rows += field_rows(inner, f"{name}.")  # type: ignore[arg-type]
    return rows


def doc_type(tp: Any) -> str:
    """The JSON type of ``tp`` as docs/run-format.md writes it."""
    if get_origin(tp) in (Union, types.UnionType):
        return f"{doc_type(_optional(tp))} or null"
    if get_origin(tp) is tuple:
        return f"list of {doc_type(get_args(tp)[0])}"
    if get_origin(tp) is dict:
        return f"object of {doc_type(get_args(tp)[1])}"
    if dataclasses.is_dataclass(tp):
        return "object"
    return _DOC_TYPES.get(tp, str(tp))


def _optional(tp: Any) -> Any:
    """X of ``X | None`` (the only unions the schema uses)."""
    inner = [a for a in get_args(tp) if a is not type(None)]
    if len(inner) != 1:
        raise TypeError(f"unsupported union {tp}")
    return inner[0]


def _required(f: dataclasses.Field[Any]) -> bool:
    return f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING


def _join(where: str, name: str) -> str:
    return f"{where}.{name}" if where else name


def _found(value: object) -> str:
    if isinstance(value, (dict, list)):
        return "an object" if isinstance(value, dict) else "a list"
    return "null" if value is None else repr(value)
