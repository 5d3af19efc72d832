"""Holdout metrics the champion comparison can bootstrap: fast numpy forms with their direction.

The project's own `metrics.score()` gives the point estimates for thresholds; these re-compute the
metrics on each bootstrap resample, where sklearn's per-call validation would cost seconds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]


def roc_auc(y: Array, score: Array) -> float:
    """Area under the ROC curve via the Mann-Whitney rank statistic (ties get average ranks)."""
    order = np.argsort(score, kind="mergesort")
    ranks = np.empty(len(score))
    sorted_scores = score[order]
    _, first, counts = np.unique(sorted_scores, return_index=True, return_counts=True)
    average = first + (counts + 1) / 2.0
    ranks[order] = np.repeat(average, counts)
    positives = y == 1
    n_pos, n_neg = positives.sum(), (~positives).sum()
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    return float((ranks[positives].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def accuracy(y: Array, score: Array) -> float:
    return float(np.mean((score >= 0.5) == (y == 1)))


def f1(y: Array, score: Array) -> float:
    predicted, actual = score >= 0.5, y == 1
    true_pos = np.sum(predicted & actual)
    denominator = predicted.sum() + actual.sum()
    return float(2 * true_pos / denominator) if denominator else 0.0


def rmse(y: Array, score: Array) -> float:
    return float(np.sqrt(np.mean((y - score) ** 2)))


def mae(y: Array, score: Array) -> float:
    return float(np.mean(np.abs(y - score)))


def r2(y: Array, score: Array) -> float:
    total = np.sum((y - y.mean()) ** 2)
    return float(1 - np.sum((y - score) ** 2) / total) if total else float("nan")


@dataclass(frozen=True)
class Metric:
    name: str
    compute: Callable[[Array, Array], float]
    greater_is_better: bool


METRICS: dict[str, Metric] = {
    m.name: m
    for m in (
        Metric("roc_auc", roc_auc, True),
        Metric("accuracy", accuracy, True),
        Metric("f1", f1, True),
        Metric("rmse", rmse, False),
        Metric("mae", mae, False),
        Metric("r2", r2, True),
    )
}
