"""The naive baseline a candidate must beat: the training target's class shares, or its mean.

What `DummyClassifier(strategy="prior")` / `DummyRegressor()` would predict, without sklearn: the
same scores for every holdout row, in the shape `api.predict_scores` gives (rows, classes) or (rows,).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from slipway.contract import Contract
from slipway.contract.coerce import label_indices
from slipway.errors import SlipwayError


def baseline_scores(train_target: Any, contract: Contract, rows: int) -> NDArray[np.float64]:
    """Scores for `rows` holdout rows from the training target (labels as in the data, or values)."""
    if len(train_target) == 0:
        raise SlipwayError("the naive baseline needs a training target, but the training table has no rows")
    if not contract.is_classification:
        mean = float(np.mean(np.asarray(train_target, dtype=np.float64)))
        return np.full(rows, mean)
    counts = np.bincount(label_indices(train_target, contract), minlength=len(contract.labels))
    shares = counts / counts.sum()
    return np.tile(shares, (rows, 1))
