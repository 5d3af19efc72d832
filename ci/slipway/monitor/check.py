"""Compare a batch with the reference: columns, missing values, drift, unseen categories, predictions.

Works on `tables.Tables` (features typed by the contract). String and boolean features are
categories (chi-square + PSI over their values), numbers are numeric (KS + PSI) unless the monitor
config lists them as categorical. Prediction drift: the probability of the second class (binary),
the mix of predicted classes (multiclass) or the predicted values (regression).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from slipway.config import MonitorConfig
from slipway.contract.schema import Contract
from slipway.monitor.stats import Drift, categorical_drift, numeric_drift
from slipway.monitor.tables import Tables

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

MAX_UNSEEN = 20  # unseen categories recorded per column, the most frequent first
SHOWN = 3  # unseen categories named per column in the one-line verdict


@dataclass(frozen=True)
class FeatureResult:
    name: str
    type: str  # the contract's type: integer, float, boolean or string
    kind: str  # "numeric" or "categorical"
    drift: Drift
    missing_reference: float  # share of missing values
    missing_batch: float
    drifted: bool  # PSI >= max_psi and the test rejects at p_value
    missing_drifted: bool  # missing share rose by more than max_missing_increase


@dataclass
class MonitorResult:
    reference_rows: int
    batch_rows: int
    contract: str = ""  # where the column types came from: the champion's version or contract.yaml
    missing_columns: list[str] = field(default_factory=list)
    extra_columns: list[str] = field(default_factory=list)
    type_errors: dict[str, str] = field(default_factory=dict)  # feature -> why the batch's values are wrong
    unseen_categories: dict[str, list[str]] = field(default_factory=dict)  # feature -> values not in contract
    features: list[FeatureResult] = field(default_factory=list)
    prediction: Drift | None = None
    prediction_of: str = ""  # what the prediction drift compares
    prediction_shares: dict[str, tuple[float, float]] = field(default_factory=dict)  # class -> (ref, batch)
    prediction_note: str = ""
    prediction_error: str = ""  # why the champion could not score the tables: a failure, not a skip
    prediction_drifted: bool = False
    model_version: str = ""

    @property
    def drifted_features(self) -> list[str]:
        return [f.name for f in self.features if f.drifted]

    @property
    def missing_drifted(self) -> list[str]:
        return [f.name for f in self.features if f.missing_drifted]

    def problems(self) -> list[str]:
        """Every finding past a threshold, one phrase each; empty means the batch passes."""
        found = []
        if self.missing_columns:
            found.append(f"missing column(s): {', '.join(self.missing_columns)}")
        if self.type_errors:
            found.append("wrong type: " + ", ".join(f"{c} ({why})" for c, why in self.type_errors.items()))
        if self.drifted_features:
            found.append(
                f"drift in {len(self.drifted_features)} feature(s): {', '.join(self.drifted_features)}"
            )
        if self.missing_drifted:
            found.append(f"more missing values in: {', '.join(self.missing_drifted)}")
        if self.unseen_categories:
            found.append("unseen categories: " + ", ".join(map(_unseen, self.unseen_categories.items())))
        if self.prediction_error:
            found.append(self.prediction_error)
        if self.prediction_drifted and self.prediction is not None:
            found.append(f"prediction drift in the {self.prediction_of} (PSI {self.prediction.psi:.2f})")
        return found

    def to_json(self) -> dict[str, Any]:
        def clean(value: Any) -> Any:
            if isinstance(value, float) and not math.isfinite(value):
                return None
            if isinstance(value, dict):
                return {k: clean(v) for k, v in value.items()}
            if isinstance(value, list | tuple):
                return [clean(v) for v in value]
            return value

        data = asdict(self)
        data["passed"] = not self.problems()
        data["problems"] = self.problems()
        return dict(clean(data))


def _unseen(item: tuple[str, list[str]]) -> str:
    column, values = item
    shown = ", ".join(map(repr, values[:SHOWN]))
    more = f" and {len(values) - SHOWN} more" if len(values) > SHOWN else ""
    return f"{column} ({shown}{more})"


def _label(value: float) -> str:
    return str(int(value)) if value.is_integer() else repr(value)


def category_labels(values: pd.Series, kind: str) -> list[str | None]:
    """A typed column's values as category names (booleans: true/false), None where missing."""
    names: dict[str, Callable[[Any], str]] = {
        "string": str,
        "boolean": lambda v: "true" if v else "false",
    }
    name = names.get(kind, lambda v: _label(float(v)))
    return [None if gap else name(v) for v, gap in zip(values.tolist(), values.isna().tolist(), strict=True)]


def unseen_categories(values: pd.Series, categories: tuple[str, ...]) -> list[str]:
    """Values not among the contract's categories, the most frequent first (at most MAX_UNSEEN)."""
    present = values.dropna()
    counts = present[~present.isin(categories)].value_counts()
    ranked = sorted(counts.items(), key=lambda item: (-item[1], str(item[0])))
    return [str(value) for value, _ in ranked[:MAX_UNSEEN]]


def compare(tables: Tables, contract: Contract, config: MonitorConfig) -> MonitorResult:
    """Each feature the batch has, with its type, against the reference; the rest is listed."""
    result = MonitorResult(
        reference_rows=len(tables.reference),
        batch_rows=len(tables.batch),
        missing_columns=list(tables.missing_columns),
        extra_columns=list(tables.extra_columns),
        type_errors=dict(tables.type_errors),
    )
    for spec in (s for s in contract.features if s.name in tables.batch.columns):
        ref_values, new_values = tables.reference[spec.name], tables.batch[spec.name]
        categorical = spec.type in {"string", "boolean"} or spec.name in config.categorical
        if categorical:
            drift = categorical_drift(
                category_labels(ref_values, spec.type), category_labels(new_values, spec.type)
            )
        else:
            drift = numeric_drift(
                ref_values.to_numpy(dtype=float), new_values.to_numpy(dtype=float), config.bins
            )
        if spec.type == "string" and spec.categories:
            unseen = unseen_categories(new_values, spec.categories)
            if unseen:
                result.unseen_categories[spec.name] = unseen
        missing_ref, missing_new = float(ref_values.isna().mean()), float(new_values.isna().mean())
        result.features.append(
            FeatureResult(
                name=spec.name,
                type=spec.type,
                kind="categorical" if categorical else "numeric",
                drift=drift,
                missing_reference=missing_ref,
                missing_batch=missing_new,
                drifted=drift.psi >= config.max_psi and drift.p_value < config.p_value,
                missing_drifted=missing_new - missing_ref > config.max_missing_increase,
            )
        )
    result.features.sort(key=lambda f: -f.drift.psi if math.isfinite(f.drift.psi) else 0.0)
    return result


@dataclass(frozen=True)
class Predictions:
    """What the prediction drift compared, on each table: numbers, or class names (categorical)."""

    reference: Any
    batch: Any
    categorical: bool
    of: str  # e.g. "probability of 'M'", "predicted class", "prediction"


def predictions_of(reference_scores: np.ndarray, batch_scores: np.ndarray, contract: Contract) -> Predictions:
    """The champion's scores reduced to one comparable value per row, by task and number of classes."""
    labels = contract.labels
    if not contract.is_classification:
        return Predictions(reference_scores, batch_scores, False, "prediction")
    if len(labels) == 2:
        return Predictions(reference_scores[:, 1], batch_scores[:, 1], False, f"probability of {labels[1]!r}")
    names = [str(label) for label in labels]
    return Predictions(
        [names[i] for i in reference_scores.argmax(axis=1)],
        [names[i] for i in batch_scores.argmax(axis=1)],
        True,
        "predicted class",
    )


def _shares(scores: np.ndarray, classes: int) -> list[float]:
    import numpy as np

    counts = np.bincount(scores.argmax(axis=1), minlength=classes)
    return [float(c) / max(len(scores), 1) for c in counts]


def prediction_drift(
    result: MonitorResult,
    reference_scores: np.ndarray,
    batch_scores: np.ndarray,
    contract: Contract,
    config: MonitorConfig,
) -> Predictions:
    """Record the drift of the champion's predictions on the result; return what was compared."""
    predictions = predictions_of(reference_scores, batch_scores, contract)
    if predictions.categorical:
        drift = categorical_drift(predictions.reference, predictions.batch)
    else:
        drift = numeric_drift(predictions.reference, predictions.batch, config.bins)
    if contract.is_classification:
        classes = len(contract.labels)
        ref_shares, new_shares = _shares(reference_scores, classes), _shares(batch_scores, classes)
        result.prediction_shares = {
            str(label): (ref_shares[i], new_shares[i]) for i, label in enumerate(contract.labels)
        }
    result.prediction = drift
    result.prediction_of = predictions.of
    result.prediction_drifted = drift.psi >= config.max_prediction_psi and drift.p_value < config.p_value
    return predictions
