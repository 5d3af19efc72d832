"""The gate report's plots as PNG bytes (matplotlib, Agg): candidate against champion on the holdout.

Curves are computed with numpy (no sklearn import for a report). Classification scores are
(rows, classes) probabilities in `contract.labels` order; binary curves take the second class as
positive, multiclass curves are the one-vs-rest micro-average (every row and class as one binary
decision), which stays two readable lines however many classes there are.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from slipway.gates.metrics import Array
from slipway.report.page import png, pyplot

CANDIDATE, CHAMPION, BASELINE = "#1f77b4", "#ff7f0e", "#7f7f7f"
SMALL = 8  # font size of ticks, legends and titles
MAX_POINTS = 5000  # scatter plots draw a seeded sample of larger holdouts
MAX_ANNOTATED = 15  # confusion matrices with more classes show colours without counts


@dataclass(frozen=True)
class Scored:
    """One model's holdout scores with the name a plot shows for it."""

    name: str
    scores: Array
    color: str


def tick_labels(labels: Sequence[object]) -> list[str]:
    """Class names as matplotlib shows them literally: `$` is not math, long names are cut."""
    texts = [str(label).replace("$", r"\$") for label in labels]
    return [text if len(text) <= 24 else text[:23] + "…" for text in texts]


def _finish(axis: Any, title: str, legend: bool = True) -> None:
    axis.set_title(title, fontsize=SMALL + 1)
    axis.tick_params(labelsize=SMALL)
    if legend:
        axis.legend(fontsize=SMALL)


def binary_decisions(y: Array, scores: Array) -> tuple[Array, Array]:
    """(is positive, score) pairs: the second class of a binary task, else every row and class (micro)."""
    if scores.shape[1] == 2:
        return y == 1, scores[:, 1]
    truth = np.zeros(scores.shape, dtype=bool)
    truth[np.arange(len(y)), y] = True
    return truth.ravel(), scores.ravel()


def _counts_by_threshold(positive: Array, score: Array) -> tuple[Array, Array]:
    """True positives and rows predicted positive at each distinct score, highest threshold first."""
    order = np.argsort(-score, kind="stable")
    ordered = score[order]
    last = np.r_[np.flatnonzero(ordered[1:] != ordered[:-1]), len(ordered) - 1]  # end of each tie group
    return np.cumsum(positive[order])[last], last + 1


def roc_points(positive: Array, score: Array) -> tuple[Array, Array]:
    """False and true positive rates at each distinct threshold, from (0, 0) to (1, 1)."""
    tp, predicted = _counts_by_threshold(positive, score)
    n_pos = int(positive.sum())
    n_neg = len(positive) - n_pos
    return np.r_[0.0, (predicted - tp) / max(n_neg, 1)], np.r_[0.0, tp / max(n_pos, 1)]


def pr_points(positive: Array, score: Array) -> tuple[Array, Array]:
    """Recall and precision at each distinct threshold (highest threshold first)."""
    tp, predicted = _counts_by_threshold(positive, score)
    return tp / max(int(positive.sum()), 1), tp / predicted


def confusion_counts(y: Array, scores: Array, n_classes: int) -> Array:
    """Counts of (true class, predicted class); the prediction is the most probable class."""
    counts = np.zeros((n_classes, n_classes), dtype=int)
    np.add.at(counts, (y, scores.argmax(axis=1)), 1)
    return counts


def _annotate(axis: Any, counts: Array) -> None:
    """Each cell's count, white on the darker half of the colour scale."""
    for (row, col), count in np.ndenumerate(counts):
        color = "white" if count > counts.max() / 2 else "black"
        axis.text(col, row, str(count), ha="center", va="center", fontsize=SMALL, color=color)


def confusion(y: Array, models: Sequence[Scored], labels: Sequence[object]) -> bytes:
    """One confusion matrix per model, side by side (rows: true class, columns: predicted)."""
    k = len(labels)
    names = tick_labels(labels)
    size = min(2.2 + 0.45 * k, 9.0)
    figure, axes = pyplot().subplots(
        1, len(models), figsize=(size * len(models), size), squeeze=False, sharey=True
    )
    tilt = k > 3 or max(map(len, names)) > 8
    for axis, model in zip(axes[0], models, strict=True):
        counts = confusion_counts(y, model.scores, k)
        axis.imshow(counts, cmap="Blues")
        if k <= MAX_ANNOTATED:
            _annotate(axis, counts)
        axis.set_xticks(range(k), names, rotation=45 if tilt else 0, ha="right" if tilt else "center")
        axis.set_xlabel("predicted", fontsize=SMALL)
        _finish(axis, model.name, legend=False)
    axes[0][0].set_yticks(range(k), names)  # shared by the matrices beside it
    axes[0][0].set_ylabel("true", fontsize=SMALL)
    return png(figure)


def curves(y: Array, models: Sequence[Scored], positive_label: str | None) -> bytes:
    """ROC and precision-recall curves of each model on one figure (binary or micro-averaged)."""
    figure, (roc, pr) = pyplot().subplots(1, 2, figsize=(8.4, 3.6))
    for model in models:
        positive, score = binary_decisions(y, model.scores)
        roc.plot(*roc_points(positive, score), color=model.color, label=model.name)
        pr.plot(*pr_points(positive, score), color=model.color, label=model.name)
    base_rate = float(np.mean(binary_decisions(y, models[0].scores)[0]))
    roc.plot([0, 1], [0, 1], color=BASELINE, linestyle=":", linewidth=1)
    pr.axhline(base_rate, color=BASELINE, linestyle=":", linewidth=1, label="positive share")
    which = f"positive class {positive_label}" if positive_label is not None else "one-vs-rest, micro-average"
    roc.set_xlabel("false positive rate", fontsize=SMALL)
    roc.set_ylabel("true positive rate", fontsize=SMALL)
    pr.set_xlabel("recall", fontsize=SMALL)
    pr.set_ylabel("precision", fontsize=SMALL)
    _finish(roc, f"ROC ({which})")
    _finish(pr, f"precision-recall ({which})")
    return png(figure)


def regression(y: Array, models: Sequence[Scored]) -> bytes:
    """Predicted against actual (the diagonal is perfect) and residuals against predicted."""
    figure, (fit, residual) = pyplot().subplots(1, 2, figsize=(8.4, 3.6))
    rows = np.arange(len(y))
    if len(y) > MAX_POINTS:
        rows = np.random.default_rng(0).choice(rows, MAX_POINTS, replace=False)
    for rank, model in enumerate(models):
        style = {
            "s": 9,
            "alpha": 0.55,
            "color": model.color,
            "label": model.name,
            "zorder": len(models) - rank,
        }
        actual, predicted = y[rows], model.scores[rows]
        fit.scatter(actual, predicted, **style)  # the candidate (first) is drawn on top
        residual.scatter(predicted, actual - predicted, **style)
    low, high = float(np.min(y)), float(np.max(y))
    fit.plot([low, high], [low, high], color=BASELINE, linestyle=":", linewidth=1)
    residual.axhline(0, color=BASELINE, linestyle=":", linewidth=1)
    fit.set_xlabel("actual", fontsize=SMALL)
    fit.set_ylabel("predicted", fontsize=SMALL)
    residual.set_xlabel("predicted", fontsize=SMALL)
    residual.set_ylabel("actual - predicted", fontsize=SMALL)
    _finish(fit, "predicted against actual")
    _finish(residual, "residuals")
    return png(figure)


def improvement(
    distribution: Array, observed: float, interval: tuple[float, float], bar: float, title: str
) -> bytes:
    """The bootstrap distribution of an improvement, with its interval shaded and the bar marked."""
    figure, axis = pyplot().subplots(figsize=(6.0, 3.2))
    finite = distribution[np.isfinite(distribution)]
    axis.hist(finite, bins=40, color=CANDIDATE, alpha=0.7)
    axis.axvspan(
        *interval, color=CANDIDATE, alpha=0.12, label=f"interval [{interval[0]:+.4f}, {interval[1]:+.4f}]"
    )
    axis.axvline(observed, color="black", linewidth=1.2, label=f"observed {observed:+.4f}")
    axis.axvline(bar, color="#d62728", linestyle="--", linewidth=1.5, label=f"bar (min_improvement) {bar:g}")
    axis.set_xlabel("improvement (positive = candidate better)", fontsize=SMALL)
    axis.set_ylabel("resamples", fontsize=SMALL)
    _finish(axis, title)
    return png(figure)


def class_balance(labels: Sequence[object], holdout: Array, train: Array | None) -> bytes:
    """Each class's share of the holdout (and of the training rows)."""
    k = len(labels)
    figure, axis = pyplot().subplots(figsize=(max(4.0, 0.7 * k + 2), 3.0))
    x = np.arange(k)
    sides = [("holdout", holdout, CANDIDATE)] + ([("training", train, BASELINE)] if train is not None else [])
    width = 0.8 / len(sides)
    for i, (name, y, color) in enumerate(sides):
        shares = np.bincount(y, minlength=k) / max(len(y), 1)
        axis.bar(x + (i - (len(sides) - 1) / 2) * width, shares, width, color=color, label=name)
    axis.set_xticks(x, tick_labels(labels), rotation=45 if k > 3 else 0, ha="right" if k > 3 else "center")
    axis.set_ylabel("share of rows", fontsize=SMALL)
    _finish(axis, "class balance")
    return png(figure)


def target_distribution(holdout: Array, train: Array | None) -> bytes:
    """Histograms of the target on the holdout (and the training rows), as densities."""
    figure, axis = pyplot().subplots(figsize=(5.0, 3.0))
    both = holdout if train is None else np.concatenate([holdout, train])
    edges = np.histogram_bin_edges(both[np.isfinite(both)], bins=30)
    if train is not None:
        axis.hist(train, bins=edges, density=True, alpha=0.5, color=BASELINE, label="training")
    axis.hist(holdout, bins=edges, density=True, alpha=0.6, color=CANDIDATE, label="holdout")
    axis.set_ylabel("density", fontsize=SMALL)
    _finish(axis, "target distribution")
    return png(figure)
