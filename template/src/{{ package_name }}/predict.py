"""Predict with a fitted model on a table: labels (or values) as they appear in the data."""

from __future__ import annotations

from typing import Any

import pandas as pd
from slipway.contract import Contract
from slipway.contract.coerce import features

from .metrics import predict_scores


def predict(model: Any, table: pd.DataFrame, contract: Contract) -> list[Any]:
    """One prediction per row of a raw table (the target and extra columns are ignored)."""
    scores = predict_scores(model, features(table, contract), contract)
    if not contract.is_classification:
        return [float(value) for value in scores]
    return [contract.labels[index] for index in scores.argmax(axis=1)]
