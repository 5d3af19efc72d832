"""Holdout metrics the paired bootstrap recomputes: fast numpy forms with their direction.

The project's `api.score()` gives the point estimates for thresholds; these re-compute the same
metrics on each bootstrap resample, where sklearn's per-call validation would cost seconds. They
match the sklearn calls of the template's `metrics.score()` (a parity test checks it): `y` holds
class indices in `contract.labels` order (classification) or values (regression); `scores` is the
(rows, classes) probability matrix or the (rows,) predictions. Hard labels are the argmax (ties go
to the first class, like sklearn's `predict`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from slipway.errors import SlipwayError
from slipway.gates.names import CLASSIFICATION
from slipway.gates.names import REGRESSION as REGRESSION_NAMES

Array = NDArray[Any]
EPS = float(np.finfo(np.float64).eps)  # sklearn's log_loss clips probabilities to [eps, 1 - eps]


def rank_auc(positive: NDArray[np.bool_], score: Array) -> float:
    """Area under the ROC curve via the Mann-Whitney rank statistic; NaN without both classes.

    One sort per call (the bootstrap's cost): tied scores form groups sharing their average rank,
    and the positives' rank sum is each group's positive count times that rank.
    """
    n = len(positive)
    n_pos = int(positive.sum())
    n_neg = n - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    order = np.argsort(score)  # not stable, and need not be: tied scores share one rank
    ordered = score[order]
    group_starts = np.empty(n, dtype=bool)
    group_starts[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=group_starts[1:])
    starts = np.flatnonzero(group_starts)
    ends = np.append(starts[1:], n)
    positives_per_group = np.add.reduceat(positive[order], starts, dtype=np.int64)
    rank_sum = float(positives_per_group @ ((starts + ends + 1) / 2.0))  # 1-based average ranks
    return (rank_sum - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def roc_auc_binary(y: Array, scores: Array) -> float:
    """`roc_auc_score(y, scores[:, 1])`: the second class (`contract.labels[1]`) is positive."""
    return rank_auc(y == 1, scores[:, 1])


def roc_auc_ovr(y: Array, scores: Array) -> float:
    """Macro one-vs-rest AUC over the classes present with both positives and negatives in `y`.

    sklearn gives NaN when a class is absent; a bootstrap resample may miss a rare class, so the
    classes it lacks are left out of the average instead (NaN only when no class qualifies).
    """
    aucs = [rank_auc(y == c, scores[:, c]) for c in range(scores.shape[1])]
    defined = [auc for auc in aucs if not np.isnan(auc)]
    return float(np.mean(defined)) if defined else float("nan")


def accuracy(y: Array, scores: Array) -> float:
    """Share of rows whose most probable class is the true one."""
    return float(np.mean(scores.argmax(axis=1) == y))


def _per_class_f1(y: Array, scores: Array) -> NDArray[np.float64]:
    """F1 of each class as 2 tp / (true + predicted), 0 where a class is neither (zero_division=0)."""
    k = scores.shape[1]
    predicted = scores.argmax(axis=1)
    true_pos = np.bincount(y[predicted == y], minlength=k)
    denominator = np.bincount(y, minlength=k) + np.bincount(predicted, minlength=k)
    f1: NDArray[np.float64] = np.divide(2.0 * true_pos, denominator, out=np.zeros(k), where=denominator > 0)
    return f1


def f1_binary(y: Array, scores: Array) -> float:
    """`f1_score(average="binary", zero_division=0)`: F1 of the positive class (index 1)."""
    return float(_per_class_f1(y, scores)[1])


def f1_macro(y: Array, scores: Array) -> float:
    """`f1_score(average="macro", labels=range(k), zero_division=0)`: every class counts."""
    return float(np.mean(_per_class_f1(y, scores)))


def log_loss(y: Array, scores: Array) -> float:
    """`log_loss(y, scores, labels=range(k))` as sklearn 1.9 computes it: clipped, not renormalised."""
    true_class = scores[np.arange(len(y)), y]
    return float(-np.mean(np.log(np.clip(true_class, EPS, 1 - EPS))))


def rmse(y: Array, scores: Array) -> float:
    return float(np.sqrt(np.mean((y - scores) ** 2)))


def mae(y: Array, scores: Array) -> float:
    return float(np.mean(np.abs(y - scores)))


def r2(y: Array, scores: Array) -> float:
    """`r2_score` with its `force_finite`: a constant `y` gives 1.0 if predicted exactly, else 0.0."""
    residual = float(np.sum((y - scores) ** 2))
    total = float(np.sum((y - y.mean()) ** 2))
    if total == 0:
        return 1.0 if residual == 0 else 0.0
    return 1 - residual / total


@dataclass(frozen=True)
class Metric:
    """A metric the bootstrap can recompute, and which way is better."""

    name: str
    compute: Callable[[Array, Array], float]
    greater_is_better: bool


FORMS: dict[str, Callable[[Array, Array], float]] = {
    "accuracy": accuracy,
    "log_loss": log_loss,
    "rmse": rmse,
    "mae": mae,
    "r2": r2,
}
BINARY_FORMS = {**FORMS, "roc_auc": roc_auc_binary, "f1": f1_binary}
MULTICLASS_FORMS = {**FORMS, "roc_auc": roc_auc_ovr, "f1": f1_macro}
LOWER_IS_BETTER = frozenset({"log_loss", "rmse", "mae"})


def _metrics(names: tuple[str, ...], forms: dict[str, Callable[[Array, Array], float]]) -> tuple[Metric, ...]:
    """The named metrics in `names` order (the list `config` validates against), with their forms."""
    return tuple(Metric(name, forms[name], name not in LOWER_IS_BETTER) for name in names)


BINARY = _metrics(CLASSIFICATION, BINARY_FORMS)
MULTICLASS = _metrics(CLASSIFICATION, MULTICLASS_FORMS)
REGRESSION = _metrics(REGRESSION_NAMES, FORMS)


def metrics_for(task: str, n_classes: int) -> dict[str, Metric]:
    """The metrics of a task: binary or multiclass forms by `n_classes`, or the regression ones."""
    found: tuple[Metric, ...]
    if task == "regression":
        found = REGRESSION
    elif task == "classification":
        found = BINARY if n_classes == 2 else MULTICLASS
    else:
        raise SlipwayError(f"no metrics for task {task!r}: expected classification or regression")
    return {m.name: m for m in found}


def metric_for(name: str, task: str, n_classes: int) -> Metric:
    """One metric of the task by name; a name the task lacks is one line naming those it has."""
    known = metrics_for(task, n_classes)
    if name not in known:
        raise SlipwayError(f"cannot compare on {name!r}: {task} metrics are {', '.join(known)}")
    return known[name]
