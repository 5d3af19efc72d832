"""Holdout metrics of the model; the keys are the names gates and `dvc metrics` use.

Classification scores are class probabilities in the contract's label order (binary or
multiclass); the hard label is the most probable class. Regression scores are the predictions.
slipway's gates recompute the same metrics in numpy for the bootstrap (checked against these).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import (
    accuracy_score,
    f1_score,
    log_loss,
    mean_absolute_error,
    r2_score,
    roc_auc_score,
    root_mean_squared_error,
)
from slipway.contract import Contract
from slipway.contract.coerce import label_indices


def predict_scores(model: Any, features: pd.DataFrame, contract: Contract) -> np.ndarray:
    """Class probabilities, one column per label of the contract (in its order), or predictions."""
    if not contract.is_classification:
        return np.asarray(model.predict(features), dtype=float)
    probabilities = pd.DataFrame(model.predict_proba(features), columns=list(model.classes_))
    # a class the training split lacked gets probability 0, so columns always match the labels
    return probabilities.reindex(columns=contract.labels, fill_value=0.0).to_numpy(dtype=float)


def score(y_true: Any, scores: np.ndarray, contract: Contract) -> dict[str, float]:
    """Binary: roc_auc, accuracy, f1, log_loss; multiclass: the same, macro-averaged (one-vs-rest
    for roc_auc); regression: rmse, mae, r2."""
    if not contract.is_classification:
        return {
            "rmse": float(root_mean_squared_error(y_true, scores)),
            "mae": float(mean_absolute_error(y_true, scores)),
            "r2": float(r2_score(y_true, scores)),
        }
    y = label_indices(y_true, contract)
    classes = list(range(len(contract.labels)))
    predicted = scores.argmax(axis=1)
    if len(classes) == 2:
        auc = roc_auc_score(y, scores[:, 1])
        f1 = f1_score(y, predicted, average="binary", zero_division=0)
    else:
        auc = roc_auc_score(y, scores, multi_class="ovr", labels=classes)
        f1 = f1_score(y, predicted, average="macro", labels=classes, zero_division=0)
    return {
        "roc_auc": float(auc),
        "accuracy": float(accuracy_score(y, predicted)),
        "f1": float(f1),
        "log_loss": float(log_loss(y, scores, labels=classes)),
    }
