"""Compare a batch with the training reference: schema, missing values, per-feature and prediction drift."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

from slipway.config import MonitorConfig
from slipway.monitor.stats import Drift, categorical_drift, numeric_drift


@dataclass(frozen=True)
class FeatureResult:
    name: str
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
    missing_columns: list[str] = field(default_factory=list)
    extra_columns: list[str] = field(default_factory=list)
    dtype_changes: dict[str, tuple[str, str]] = field(default_factory=dict)  # column -> (reference, batch)
    features: list[FeatureResult] = field(default_factory=list)
    prediction: Drift | None = None
    prediction_note: str = ""
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
        if self.dtype_changes:
            changes = ", ".join(f"{c} ({a} -> {b})" for c, (a, b) in self.dtype_changes.items())
            found.append(f"type changed: {changes}")
        if self.drifted_features:
            found.append(
                f"drift in {len(self.drifted_features)} feature(s): {', '.join(self.drifted_features)}"
            )
        if self.missing_drifted:
            found.append(f"more missing values in: {', '.join(self.missing_drifted)}")
        if self.prediction_drifted and self.prediction is not None:
            found.append(f"prediction drift (PSI {self.prediction.psi:.2f})")
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


def kind_of(dtype: Any) -> str:
    """A coarse dtype family, so int64 vs float64 (a batch without decimals) is not a schema change."""
    kind = getattr(dtype, "kind", "O")
    return {"i": "numeric", "u": "numeric", "f": "numeric", "b": "boolean", "M": "datetime"}.get(kind, "text")


def compare(reference: Any, batch: Any, config: MonitorConfig) -> MonitorResult:
    """Compare two pandas frames holding the same feature columns (target already dropped)."""
    result = MonitorResult(reference_rows=len(reference), batch_rows=len(batch))
    result.missing_columns = [c for c in reference.columns if c not in batch.columns]
    result.extra_columns = [c for c in batch.columns if c not in reference.columns]
    for column in (c for c in reference.columns if c in batch.columns):
        ref_kind, new_kind = kind_of(reference[column].dtype), kind_of(batch[column].dtype)
        if ref_kind != new_kind and not batch[column].isna().all():
            result.dtype_changes[column] = (str(reference[column].dtype), str(batch[column].dtype))
            continue
        categorical = column in config.categorical or ref_kind != "numeric"
        ref_values, new_values = reference[column], batch[column]
        if categorical:
            drift = categorical_drift(ref_values.tolist(), new_values.tolist())
        else:
            drift = numeric_drift(
                ref_values.to_numpy(dtype=float), new_values.to_numpy(dtype=float), config.bins
            )
        missing_ref, missing_new = float(ref_values.isna().mean()), float(new_values.isna().mean())
        result.features.append(
            FeatureResult(
                name=column,
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


def prediction_drift(
    result: MonitorResult, reference_scores: Any, batch_scores: Any, config: MonitorConfig
) -> None:
    """Record the drift of the champion's scores (numeric PSI + KS) on the result."""
    drift = numeric_drift(reference_scores, batch_scores, config.bins)
    result.prediction = drift
    result.prediction_drifted = drift.psi >= config.max_prediction_psi and drift.p_value < config.p_value
