"""How auditkit writes things for people, in one place for the report and the gate.

- Escaping, one function per output format: :func:`md_text` for Markdown (the report's
  report.md and the gate's gate.md), :func:`xml_text` for XML (the gate's JUnit file, built with
  ElementTree, which escapes markup). HTML is escaped by Jinja's autoescape
  (auditkit/report/html.py) and nowhere by hand.
- Numbers: significant figures, percentages, intervals, p-values, counts; a dash when missing.
- Items and replies: what an item asks and what a model answered, in words.

Model output, item text and names are untrusted everywhere: a reply may hold markup, links,
mentions or control characters.
"""
from __future__ import annotations

import math
import re
from typing import Any

from auditkit.probes.kinds import find_kind, kind_of_item
from auditkit.types import Item

DASH = "–"
MAX_REPLY_CHARS = 600       # a model's reply is cut here before any format cuts it further

# ---------------------------------------------------------------- escaping

_MD_ESCAPES = str.maketrans({
    "&": "&amp;", "<": "&lt;", ">": "&gt;", "\\": "\\\\", "|": "\\|", "`": "\\`",
    "*": "\\*", "_": "\\_", "[": "\\[", "]": "\\]", "#": "\\#", "~": "\\~",
    "@": "&#64;", "\n": "<br>", "\r": "", "\t": " ",
})
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_PLAIN_CODE = re.compile(r"[^`\r\n]+")


def md_text(value: Any, limit: int | None = None) -> str:
    """``value`` as Markdown text that formats nothing, safe in a table cell or a list item.

    Cut to ``limit`` characters (an ellipsis marks the cut), control characters dropped, HTML
    entities for ``& < >``, a backslash before every character that could format or link
    (``\\ | ` * _ [ ] # ~``), ``@`` as an entity (no mentions), newlines as ``<br>``. ``!``
    stays: an image needs ``[``, which is escaped.
    """
    text = _CONTROL.sub("", str(value))
    if limit is not None and len(text) > limit:
        text = text[:limit - 1] + "…"
    return text.translate(_MD_ESCAPES)


def md_code(value: Any) -> str:
    """An identifier as inline code; escaped text when it holds a backtick or a newline."""
    text = str(value)
    return f"`{text}`" if _PLAIN_CODE.fullmatch(text) else md_text(text)


def xml_text(value: Any) -> str:
    """``value`` without the characters XML 1.0 cannot hold (ElementTree escapes the rest)."""
    return _NOT_XML.sub("", str(value))


# ---------------------------------------------------------------- numbers

def missing(x: Any) -> bool:
    """None, NaN, infinities and non-numbers are not numbers a report can print."""
    if x is None:
        return True
    try:
        return not math.isfinite(float(x))
    except (TypeError, ValueError):
        return True


def num(x: Any, digits: int = 3) -> str:
    """``digits`` significant figures; thousands with separators; a dash when missing."""
    if missing(x):
        return DASH
    x = float(x)
    if abs(x) >= 10 ** digits:
        return f"{x:,.0f}"
    text = f"{x:.{digits}g}"
    return _unsigned_zero(f"{float(text):,.0f}" if "e" in text else text)


def _unsigned_zero(text: str) -> str:
    """'-0' (a tiny negative number rounded) is written '0'."""
    if text.startswith("-") and float(text.rstrip("%").replace(",", "")) == 0:
        return text[1:]
    return text


def pct(x: Any, decimals: int = 0) -> str:
    """A share as a percentage: 0.283 -> '28%' (decimals 1: '28.3%')."""
    return DASH if missing(x) else _unsigned_zero(f"{100 * float(x):.{decimals}f}%")


def points(x: float) -> str:
    """A change of a share in signed percentage points: 0.05 -> '+5.0 points'."""
    return f"{100 * x:+.1f} points"


def pct_ci(x: Any, lo: Any, hi: Any) -> str:
    """'28% [19, 41]': the share and its 95% interval in percent."""
    if missing(x):
        return DASH
    if missing(lo) or missing(hi):
        return pct(x)
    return f"{pct(x)} [{100 * float(lo):.0f}, {100 * float(hi):.0f}]"


def num_ci(x: Any, lo: Any, hi: Any, digits: int = 3) -> str:
    """'3.2 [2.5, 4.1]'."""
    if missing(x):
        return DASH
    if missing(lo) or missing(hi):
        return num(x, digits)
    return f"{num(x, digits)} [{num(lo, 2)}, {num(hi, 2)}]"


def pval(p: Any, *, exact: bool = False) -> str:
    """A p-value. Short (tables, sentences): two significant figures, '< 0.001' below that.
    ``exact`` (the gate's evidence for a decision): three decimals, two significant figures in
    scientific notation below 0.001 ('7.5e-09')."""
    if missing(p):
        return DASH
    p = float(p)
    if exact:
        return f"{p:.2g}" if p < 0.001 else f"{p:.3f}"
    return "< 0.001" if p < 0.001 else f"{p:.2g}"


def p_clause(p: Any) -> str:
    """'p = 0.031', 'p < 0.001' or 'p –' (the short form, in a sentence)."""
    text = pval(p)
    return f"p = {text}" if text[0].isdigit() else f"p {text}"


def count(n: Any) -> str:
    return DASH if missing(n) else f"{int(n):,}"


def plain(x: Any) -> Any:
    """A value for a data attribute or JSON: Python float or int, None when not finite."""
    if hasattr(x, "item"):
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


# ---------------------------------------------------------------- items and replies

def item_view(item: Item | None) -> list[tuple[str, str]]:
    """(label, text) lines that show an item, as its kind says; empty when it is not known."""
    kind = None if item is None else kind_of_item(item)
    return [] if kind is None else kind.view_item(item)


def item_text(item: Item | None) -> str:
    """What an item asks, in one line, as its kind says ('' when the item is not known)."""
    kind = None if item is None else kind_of_item(item)
    return "" if kind is None else kind.item_text(item)


def answer_text(item: Item | None, *, kind: str, chosen: Any, output: Any,
                limit: int = MAX_REPLY_CHARS) -> str:
    """What a model answered on ``item``, in words, as the probe's kind says (a reply, the
    sentence of a pair it prefers, the option it chose), cut at ``limit`` characters."""
    probe_kind = find_kind(kind)
    text = output if isinstance(output, str) else ""
    if probe_kind is not None:
        text = probe_kind.answer_text(item, -1 if chosen is None else int(chosen), text)
    return _cut(text, limit)


def _cut(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[:limit] + f"… ({len(text) - limit} more characters)"
