"""Template expansion: one item template times the Cartesian product of the slots it mentions.

Placeholders are ``{slot}`` or ``{slot.key}``; ``{{`` and ``}}`` are literal braces; any other
brace is an error. A string that is exactly one placeholder takes the filler's value with its
type (so ``gold: "{answer.gold}"`` gives an integer); elsewhere values are written with
``str``. Strings are filled wherever they occur (inside lists and ``meta`` too); numbers,
booleans and null are kept.
"""
from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from auditkit.probes.schema import TEMPLATE_KEYS, check_keys, describe, read_str
from auditkit.probes.slots import Filler, read_slots
from auditkit.probes.source import Issues, LineDict, line_of

Ref = tuple[str, str | None]           # (slot, key or None)
Part = str | Ref
MAX_EXPANSION = 100_000                      # items one template may produce

_TOKEN = re.compile(r"\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]*)(?:\.([A-Za-z_][A-Za-z0-9_]*))?\}|[{}]")


class TemplateSyntaxError(ValueError):
    """A brace that is neither a placeholder nor a doubled literal brace."""


@functools.lru_cache(maxsize=4096)
def parse(text: str) -> tuple[Part, ...]:
    """``text`` split into literal strings and ``(slot, key)`` references."""
    parts: list[Part] = []
    pos = 0
    for match in _TOKEN.finditer(text):
        parts.append(text[pos:match.start()])
        token = match.group(0)
        if token in ("{{", "}}"):
            parts.append(token[0])
        elif match.group(1):
            parts.append((match.group(1), match.group(2)))
        else:
            raise TemplateSyntaxError(
                f"stray {token!r} at character {match.start() + 1} of {text!r}; expected "
                "{slot} or {slot.key}, and {{ or }} for a literal brace")
        pos = match.end()
    parts.append(text[pos:])
    return tuple(p for p in parts if p != "")


def references(obj: Any) -> list[Ref]:
    """Every placeholder in the strings of ``obj`` (walked in order), without repeats."""
    found: dict[Ref, None] = {}
    for text in _strings(obj):
        for part in parse(text):
            if isinstance(part, tuple):
                found.setdefault(part, None)
    return list(found)


def _strings(obj: Any) -> Iterator[str]:
    if isinstance(obj, str):
        yield obj
    elif isinstance(obj, Mapping):
        for value in obj.values():
            yield from _strings(value)
    elif isinstance(obj, list):
        for value in obj:
            yield from _strings(value)


def _value(ref: Ref, binding: Mapping[str, Filler]) -> Any:
    filler = binding[ref[0]]
    if ref[1] is None:
        return filler
    assert isinstance(filler, Mapping)  # every {slot.key} was checked against the fillers
    return filler[ref[1]]


def render(text: str, binding: Mapping[str, Filler]) -> Any:
    """``text`` with its placeholders filled; a lone placeholder keeps the value's type."""
    parts = parse(text)
    if len(parts) == 1 and isinstance(parts[0], tuple):
        return _value(parts[0], binding)
    return render_str(text, binding)


def render_str(text: str, binding: Mapping[str, Filler]) -> str:
    """``text`` with its placeholders filled, always as a string (for ids)."""
    return "".join(p if isinstance(p, str) else str(_value(p, binding)) for p in parse(text))


def fill(obj: Any, binding: Mapping[str, Filler]) -> Any:
    """A copy of ``obj`` with every string rendered; mappings keep their line numbers."""
    if isinstance(obj, str):
        return render(obj, binding)
    if isinstance(obj, Mapping):
        out = LineDict({k: fill(v, binding) for k, v in obj.items()}, line=line_of(obj))
        out.key_lines = dict(getattr(obj, "key_lines", {}))
        return out
    if isinstance(obj, list):
        return [fill(v, binding) for v in obj]
    return obj


def expand_templates(spec: Mapping[str, Any], kind: str, base_dir: Path, issues: Issues,
                     item_keys: frozenset[str]) -> list[LineDict]:
    """The raw items of every template of ``spec``, in template then product order."""
    templates = spec["templates"]
    if not isinstance(templates, list) or not templates:
        issues.add(f"expected a non-empty list of templates, found {describe(templates)}",
                   field="templates", line=line_of(spec, "templates"))
        return []
    shared = read_slots(spec.get("slots", {}), base_dir, issues, where=spec, field="slots")
    raws: list[LineDict] = []
    for number, template in enumerate(templates):
        raws.extend(_expand_one(template, number, shared, kind, base_dir, issues, item_keys,
                                line_of(spec, "templates")))
    return raws


def _expand_one(template: Any, number: int, shared: Mapping[str, list[Filler] | None],
                kind: str, base_dir: Path, issues: Issues, item_keys: frozenset[str],
                line: int | None) -> list[LineDict]:
    where = f"templates[{number}]"
    if not isinstance(template, Mapping):
        issues.add(f"expected a template mapping (id, slots, item), found {describe(template)}",
                   field=where, line=line)
        return []
    before = len(issues.problems)
    check_keys(template, TEMPLATE_KEYS, issues, what="a template", prefix=where + ".")
    id_text = read_str(template, "id", issues, prefix=where + ".")
    item = _read_template_item(template, where, kind, issues, item_keys)
    local = read_slots(template.get("slots", {}), base_dir, issues, where=template,
                       field=where + ".slots")
    slots = {**shared, **local}
    refs = _checked_refs(template, id_text, item, slots, issues, where)
    if len(issues.problems) > before or item is None or id_text is None:
        return []
    return _product(template, id_text, item, refs, slots, issues, where)


def _read_template_item(template: Mapping[str, Any], where: str, kind: str, issues: Issues,
                        item_keys: frozenset[str]) -> Mapping[str, Any] | None:
    item = template.get("item")
    if "item" not in template:
        issues.add(f"missing; expected a {kind} item with {{slot}} placeholders",
                   field=where + ".item", line=line_of(template))
        return None
    if not isinstance(item, Mapping):
        issues.add(f"expected a mapping, found {describe(item)}", field=where + ".item",
                   line=line_of(template, "item"))
        return None
    if "id" in item:
        issues.add("the id of a template's items goes on the template, not in its item",
                   field=where + ".item.id", line=line_of(item, "id"))
    check_keys(item, item_keys, issues, what=f"a {kind} item", prefix=where + ".item.")
    return item


def _checked_refs(template: Mapping[str, Any], id_text: str | None, item: Mapping[str, Any] | None,
                  slots: Mapping[str, list[Filler] | None], issues: Issues,
                  where: str) -> list[Ref]:
    try:
        refs = references([id_text or "", item or {}])
    except TemplateSyntaxError as err:
        issues.add(str(err), field=where, line=line_of(template))
        return []
    for slot, key in refs:
        _check_ref(slot, key, slots, template, issues, where)
    return refs


def _check_ref(slot: str, key: str | None, slots: Mapping[str, list[Filler] | None],
               template: Mapping[str, Any], issues: Issues, where: str) -> None:
    shown = "{" + slot + ("." + key if key else "") + "}"
    line = line_of(template)
    if slot not in slots:
        known = ", ".join(sorted(slots)) or "none"
        issues.add(f"placeholder {shown} names no slot; slots defined: {known}", field=where,
                   line=line)
        return
    fillers = slots[slot]
    if fillers is None:  # the slot itself was malformed: already reported
        return
    if not fillers:
        issues.add(f"placeholder {shown}: slot {slot!r} has no fillers", field=where, line=line)
        return
    for index, filler in enumerate(fillers):
        problem = _filler_problem(filler, key)
        if problem:
            issues.add(f"placeholder {shown}: filler {index} of slot {slot!r} {problem}",
                       field=where, line=line)
            return


def _filler_problem(filler: Filler, key: str | None) -> str | None:
    if key is None and isinstance(filler, Mapping):
        return f"is a mapping; expected {{slot.key}} with one of: {', '.join(filler)}"
    if key is not None and not isinstance(filler, Mapping):
        return f"is {describe(filler)}, which has no key {key!r}"
    if isinstance(filler, Mapping) and key is not None and key not in filler:
        return f"lacks the key {key!r} (it has: {', '.join(filler)})"
    return None


def _product(template: Mapping[str, Any], id_text: str, item: Mapping[str, Any], refs: list[Ref],
             slots: Mapping[str, list[Filler] | None], issues: Issues,
             where: str) -> list[LineDict]:
    names = list(dict.fromkeys(slot for slot, _ in refs))
    lists = [slots[name] or [] for name in names]
    total = 1
    for fillers in lists:
        total *= len(fillers)
    if total > MAX_EXPANSION:
        issues.add(f"expands to {total} items; expected at most {MAX_EXPANSION}", field=where,
                   line=line_of(template))
        return []
    raws = []
    for combo in itertools.product(*lists):
        binding = dict(zip(names, combo))
        raw = fill(item, binding)
        raw["id"] = render_str(id_text, binding)
        raw.key_lines["id"] = line_of(template, "id")
        raws.append(raw)
    return raws
