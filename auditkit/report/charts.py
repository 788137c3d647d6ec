"""The report's charts: matplotlib (Agg) figures as inline SVG strings, byte-for-byte stable.

Text stays text (``svg.fonttype = none``: small, searchable, drawn with the reader's local
fonts); ids are salted per chart so that several SVGs in one page never share an id; no date
or creator metadata, so rendering twice gives the same bytes.
"""
from __future__ import annotations

import io
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import matplotlib

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.typing import RcKeyType

matplotlib.use("Agg")  # no display: the report renders on servers and in CI

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

STYLE: dict[RcKeyType, Any] = {
    "svg.fonttype": "none", "text.parse_math": False, "font.size": 9, "font.family": "sans-serif",
    "axes.spines.top": False, "axes.spines.right": False, "svg.image_inline": True}
NO_METADATA = {"Date": None, "Creator": None, "Format": None, "Type": None}
FAIL, EXPECTED = "#c0392b", "#7f8c8d"


def to_svg(fig: Figure, salt: str) -> str:
    """The figure as an ``<svg>`` element (no XML prolog), ids salted with ``salt``."""
    buf = io.StringIO()
    with plt.rc_context({**STYLE, "svg.hashsalt": f"auditkit-{salt}"}):
        fig.savefig(buf, format="svg", metadata=NO_METADATA, bbox_inches="tight")
    plt.close(fig)
    svg = buf.getvalue()
    return svg[svg.index("<svg"):].strip()


def kappa_matrix(pairs: pd.DataFrame, order: Sequence[str]) -> np.ndarray:
    """(M, M) error consistency from the pairs table of one scope, rows and columns in ``order``;
    1 on the diagonal, NaN where kappa is undefined."""
    pos = {m: j for j, m in enumerate(order)}
    K = np.full((len(order), len(order)), np.nan)
    np.fill_diagonal(K, 1.0)
    for a, b, k in zip(pairs["model_a"], pairs["model_b"], pairs["kappa"]):
        if a in pos and b in pos:
            K[pos[a], pos[b]] = K[pos[b], pos[a]] = k
    return K


def heatmap_svg(K: np.ndarray, labels: Sequence[str], *, title: str, salt: str) -> str:
    """Error consistency (Geirhos et al. 2020) as a diverging heatmap: 0 white = independent."""
    m = len(labels)
    side = min(9.0, max(3.2, 0.22 * m + 1.6))
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(side + 1.0, side))
        img = ax.imshow(np.ma.masked_invalid(K), cmap="RdBu_r", vmin=-1, vmax=1,
                        interpolation="none")
        ax.set_xticks(range(m), labels, rotation=90, fontsize=_tick_size(m))
        ax.set_yticks(range(m), labels, fontsize=_tick_size(m))
        if m <= 12:
            _annotate(ax, K)
        ax.set_title(title)
        fig.colorbar(img, ax=ax, fraction=0.046, pad=0.04, label="error consistency κ")
    return to_svg(fig, salt)


def _tick_size(m: int) -> float:
    return 9 if m <= 20 else max(4.0, 9 - (m - 20) / 8)


def _annotate(ax: Axes, K: np.ndarray) -> None:
    for (i, j), k in np.ndenumerate(K):
        if i != j and np.isfinite(k):
            ax.text(j, i, f"{k:.2f}", ha="center", va="center", fontsize=7,
                    color="white" if abs(k) > 0.6 else "black")


def histogram_svg(hist: pd.DataFrame, *, title: str, salt: str) -> str:
    """Items failed by exactly k models: observed bars against the independence expectation
    (Poisson-binomial, Toups et al. 2023) with the permutation null's 95% range."""
    k = hist["k"].to_numpy()
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(min(10.0, max(5.0, 0.18 * len(k) + 3)), 3.2))
        ax.bar(k - 0.2, hist["observed"], width=0.4, color=FAIL, label="observed")
        err = np.vstack([hist["expected"] - hist["null_lo"], hist["null_hi"] - hist["expected"]])
        ax.bar(k + 0.2, hist["expected"], width=0.4, color=EXPECTED,
               yerr=np.clip(err, 0, None), capsize=2, label="independent models (95% range)")
        ax.set_xlabel("number of models that fail the item")
        ax.set_ylabel("items")
        ax.set_xticks(k if len(k) <= 21 else k[::max(1, len(k) // 15)])
        ax.set_title(title)
        ax.legend(frameon=False)
    return to_svg(fig, salt)


def rates_svg(rates: pd.DataFrame, order: Sequence[str], *, salt: str) -> str:
    """Failure rate with its 95% Wilson interval, one panel per scope, models in ``order``."""
    scopes = list(pd.unique(rates["scope"]))
    ncols = min(4, len(scopes))
    nrows = math.ceil(len(scopes) / ncols)
    height = 0.17 * len(order) + 0.9
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(nrows, ncols, figsize=(2.6 * ncols + 1.2, height * nrows),
                                 sharey=True, squeeze=False)
        for ax, scope in zip(axes.flat, scopes):
            _rate_panel(ax, rates[rates["scope"] == scope], order, scope)
        for ax in axes.flat[len(scopes):]:
            ax.set_visible(False)
        axes[0, 0].set_yticks(range(len(order)), order, fontsize=_tick_size(len(order)))
        axes[0, 0].set_ylim(len(order) - 0.5, -0.5)
        fig.tight_layout()
    return to_svg(fig, salt)


def _rate_panel(ax: Axes, rates: pd.DataFrame, order: Sequence[str], scope: str) -> None:
    by_model = rates.set_index("model")
    y = [j for j, m in enumerate(order) if m in by_model.index]
    r = by_model.loc[[order[j] for j in y]]
    # Wilson bounds can sit a rounding error inside the rate (at 0 or 1): clip to >= 0
    xerr = np.clip([(r["rate"] - r["rate_lo"]) * 100, (r["rate_hi"] - r["rate"]) * 100], 0, None)
    ax.errorbar(r["rate"] * 100, y, xerr=xerr,
                fmt="o", ms=3.5, color=FAIL, ecolor="#555555", elinewidth=0.8, capsize=0)
    ax.set_xlim(-3, 103)
    ax.set_xticks([0, 50, 100])
    ax.grid(axis="x", color="#dddddd", linewidth=0.6)
    ax.set_title(scope, fontsize=8)
    ax.set_xlabel("% failed", fontsize=7)
