"""Read a table and turn it into what the model sees: typed features and labels, as the contract says.

One conversion for training, the gates, the server and the monitor, so a value means the same
thing everywhere: numbers and booleans become float64 (missing: NaN), strings stay strings (object
dtype, missing: NaN), labels keep the type they have in the data (int, str or bool).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from slipway.contract.schema import ColumnSpec, Contract, ContractError, Label
from slipway.errors import first_line

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

FORMATS = (".csv", ".parquet")
TRUE = frozenset({"true", "t", "yes", "y", "1"})
FALSE = frozenset({"false", "f", "no", "n", "0"})


def read_table(path: Path) -> pd.DataFrame:
    """A CSV or Parquet table; a missing, empty or unreadable file is one line naming it."""
    import pandas as pd

    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise ContractError(f"{path}: expected a .csv or .parquet table, got {suffix or 'no extension'!r}")
    if not path.is_file():
        raise ContractError(f"{path} not found")
    if path.stat().st_size == 0:
        raise ContractError(f"{path} is empty: it holds no table")
    try:
        frame = pd.read_parquet(path) if suffix == ".parquet" else pd.read_csv(path)
    except Exception as exc:  # pandas raises many types for a bad file; all mean "unreadable"
        raise ContractError(f"{path} is not a readable {suffix[1:]} table: {first_line(exc, 200)}") from None
    if frame.empty:
        raise ContractError(f"{path} has no rows: it holds only a header")
    frame.columns = [str(name) for name in frame.columns]
    return frame


def as_bool(value: Any) -> float:
    """1.0, 0.0 or NaN for a boolean cell (True/False, 1/0, or the words); ValueError otherwise."""
    if value is None or (isinstance(value, float) and value != value):
        return float("nan")
    if isinstance(value, bool) or type(value).__name__ == "bool_":
        return 1.0 if value else 0.0
    if isinstance(value, int | float) and value in (0, 1):
        return float(value)
    text = str(value).strip().lower()
    if text in TRUE:
        return 1.0
    if text in FALSE:
        return 0.0
    if text in {"", "nan", "none", "null", "<na>"}:
        return float("nan")
    raise ValueError(f"{value!r} is not a boolean")


def column_values(series: pd.Series, spec: ColumnSpec) -> pd.Series:
    """One column as the model sees it; ValueError naming a bad value when it cannot be converted."""
    import numpy as np
    import pandas as pd

    if spec.type in {"integer", "float"}:
        converted = pd.to_numeric(series, errors="coerce").astype("float64")
        bad = series.notna() & converted.isna()
        if bad.any():
            raise ValueError(f"{series[bad].iloc[0]!r} is not a number")
        return converted
    if spec.type == "boolean":
        return pd.Series([as_bool(v) for v in series.tolist()], index=series.index, dtype="float64")
    text = [
        np.nan if missing else as_text(value)
        for value, missing in zip(series.tolist(), series.isna(), strict=True)
    ]
    return pd.Series(text, index=series.index, dtype=object)


def as_text(value: Any) -> str:
    """A category as text: 3.0 reads as "3", so a code column with gaps (floats to pandas) keeps its codes."""
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def features(frame: pd.DataFrame, contract: Contract) -> pd.DataFrame:
    """The feature columns, in contract order, typed; a missing column or bad value raises ContractError."""
    import pandas as pd

    out = {}
    for spec in contract.features:
        if spec.name not in frame.columns:
            raise ContractError(f"data contract: column {spec.name!r} is missing")
        try:
            out[spec.name] = column_values(frame[spec.name], spec)
        except ValueError as exc:
            raise ContractError(f"data contract: column {spec.name!r} ({spec.type}): {exc}") from None
    return pd.DataFrame(out, index=frame.index)


def label_of(value: Any, contract: Contract) -> Label:
    """A target cell as the label type of the contract (int, str or bool)."""
    kind = contract.target.type
    if kind == "boolean":
        return as_bool(value) == 1.0
    if kind == "string":
        return str(value)
    if isinstance(value, float) and not value.is_integer():
        raise ValueError(f"{value!r} is not an integer label")
    return int(value)


def target(frame: pd.DataFrame, contract: Contract) -> pd.Series:
    """The target column: labels in their own type (classification) or float64 (regression)."""
    import pandas as pd

    name = contract.target.name
    if name not in frame.columns:
        raise ContractError(f"data contract: target column {name!r} is missing")
    column = frame[name]
    if column.isna().any():
        raise ContractError(f"data contract: target {name!r} is empty in {int(column.isna().sum())} rows")
    if not contract.is_classification:
        try:
            return pd.to_numeric(column, errors="raise").astype("float64")
        except (ValueError, TypeError):
            raise ContractError(f"data contract: target {name!r} must be numeric for regression") from None
    try:
        labels = [label_of(v, contract) for v in column.tolist()]
    except ValueError as exc:
        raise ContractError(f"data contract: target {name!r}: {exc}") from None
    # ints and booleans keep a numpy dtype (scikit-learn reads object arrays of numbers as "unknown")
    dtype = object if contract.target.type == "string" else None
    return pd.Series(labels, index=frame.index, name=name, dtype=dtype)


def label_indices(labels: Any, contract: Contract) -> np.ndarray:
    """Each label's position in `contract.labels` (the model's class order); unknown labels raise."""
    import numpy as np

    position = {label: i for i, label in enumerate(contract.labels)}
    try:
        return np.fromiter((position[label] for label in list(labels)), dtype=np.int64)
    except KeyError as exc:
        known = ", ".join(map(repr, contract.labels))
        raise ContractError(f"data contract: label {exc.args[0]!r} is not one of {known}") from None
