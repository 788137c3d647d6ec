"""Agreement between a judge's labels and human labels: Cohen's kappa, per-label precision and
recall. Pure functions (arrays in, numbers out).
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def cohen_kappa(a: Sequence[Any] | np.ndarray, b: Sequence[Any] | np.ndarray,
                categories: Sequence[Any] | None = None) -> float:
    """Cohen's kappa of two raters' labels of the same N things (Cohen 1960).

    p_o = mean_i 1[a_i = b_i];  p_e = sum_k P_a(k) P_b(k) (each rater's own label shares);
    kappa = (p_o - p_e) / (1 - p_e). NaN when p_e = 1 (both raters always say one label) or N = 0.
    """
    x, y = np.asarray(list(a), dtype=object), np.asarray(list(b), dtype=object)
    if len(x) != len(y):
        raise ValueError(f"{len(x)} labels against {len(y)}")
    if len(x) == 0:
        return float("nan")
    cats = list(categories) if categories is not None else sorted(set(x) | set(y), key=str)
    pa = np.array([np.mean(x == k) for k in cats])
    pb = np.array([np.mean(y == k) for k in cats])
    p_o, p_e = float(np.mean(x == y)), float(pa @ pb)
    return float("nan") if p_e >= 1.0 else (p_o - p_e) / (1.0 - p_e)


def precision_recall(truth: Sequence[Any] | Any, predicted: Sequence[Any] | Any,
                     label: object) -> tuple[float, float]:
    """Precision = TP / (TP + FP) and recall = TP / (TP + FN) of ``label``; NaN when undefined."""
    t, p = np.asarray(truth, dtype=object) == label, np.asarray(predicted, dtype=object) == label
    tp = float(np.sum(t & p))
    precision = tp / p.sum() if p.sum() else float("nan")
    recall = tp / t.sum() if t.sum() else float("nan")
    return precision, recall


def confusion(truth: Sequence[Any] | Any, predicted: Sequence[Any] | Any,
              labels: Sequence[Any]) -> np.ndarray:
    """(len(labels), len(labels)) counts: row = human label, column = judge label."""
    index = {k: i for i, k in enumerate(labels)}
    out = np.zeros((len(labels), len(labels)), dtype=int)
    for t, p in zip(truth, predicted):
        out[index[t], index[p]] += 1
    return out
