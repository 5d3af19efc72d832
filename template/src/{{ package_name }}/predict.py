"""Predict with a fitted model on a table of features."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd


def predict(model: Any, features: pd.DataFrame) -> np.ndarray:
    """Predictions for each row, with the columns in the order the model was fitted on."""
    missing = [c for c in model.feature_names_in_ if c not in features.columns]
    if missing:
        raise ValueError(f"input lacks feature columns: {', '.join(missing)}")
    return np.asarray(model.predict(features[list(model.feature_names_in_)]))
