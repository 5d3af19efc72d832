"""Make rows that meet a contract, with a target that follows one feature: test data for any project.

A project's own tests use it, so they hold for whatever table the project adopted: the rows are
inside every range and category, and the label follows one feature (a numeric one if any), so a
model can learn it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from slipway.contract.schema import ColumnSpec, Contract

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd


def _column(spec: ColumnSpec, rows: int, rng: np.random.Generator) -> Any:
    import numpy as np

    if spec.role == "identifier":
        return [f"row-{i:06d}" for i in range(rows)] if spec.type == "string" else np.arange(rows)
    if spec.role == "ignored":
        return {"string": "x", "boolean": True}.get(spec.type, 0)
    if spec.type == "boolean":
        return rng.random(rows) < 0.5
    if spec.type == "string":
        choices = list(spec.categories) or ["a", "b", "c"]
        return np.asarray(choices, dtype=object)[rng.integers(0, len(choices), rows)]
    low, high = spec.range or (0.0, 1.0)
    values = rng.uniform(0.75 * low + 0.25 * high, 0.25 * low + 0.75 * high, rows)
    return values.round() if spec.type == "integer" else values


def _signal(frame: pd.DataFrame, spec: ColumnSpec, rng: np.random.Generator) -> np.ndarray:
    """One feature as a number in [0, 1): what the target follows."""
    import numpy as np

    column = frame[spec.name]
    if spec.type == "string":
        codes = column.map({c: i for i, c in enumerate(sorted(set(column)))}).to_numpy(dtype=float)
        return np.asarray((codes + rng.random(len(codes))) / (codes.max() + 1), dtype=float)
    values = column.to_numpy(dtype=float)
    ranks = values.argsort().argsort()
    return np.asarray(ranks / len(values), dtype=float)


def sample_frame(contract: Contract, rows: int = 200, seed: int = 0) -> pd.DataFrame:
    """`rows` rows meeting `contract` (no missing values), the target learnable from one feature."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({spec.name: _column(spec, rows, rng) for spec in contract.columns})
    numeric = [spec for spec in contract.features if not spec.categorical]
    signal = _signal(frame, (numeric or list(contract.features))[0], rng)
    target = contract.target
    if contract.is_classification:
        index = np.minimum((signal * len(target.labels)).astype(int), len(target.labels) - 1)
        values: Any = np.asarray(target.labels, dtype=object)[index]
    else:
        low, high = target.range or (0.0, 1.0)
        values = low + (high - low) * (0.25 + 0.5 * signal) + rng.normal(0, (high - low) / 200, rows)
        if target.type == "integer":
            values = values.round()
    frame[target.name] = values
    return frame
