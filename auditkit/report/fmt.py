"""Number formatting shared by the HTML and Markdown reports (one way to write each number)."""
from __future__ import annotations

import math
from typing import Any

DASH = "–"


def missing(x: Any) -> bool:
    """None, NaN and infinities are not numbers a report can print."""
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
    """A share as a percentage: 0.283 -> '28%'."""
    return DASH if missing(x) else _unsigned_zero(f"{100 * float(x):.{decimals}f}%")


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


def pval(p: Any) -> str:
    """A p-value: two significant figures, '< 0.001' below that."""
    if missing(p):
        return DASH
    p = float(p)
    return "< 0.001" if p < 0.001 else f"{p:.2g}"


def count(n: Any) -> str:
    return DASH if missing(n) else f"{int(n):,}"


def plain(x: Any) -> Any:
    """A value for a data attribute / JSON: Python float or int, None when missing."""
    if hasattr(x, "item"):
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x
