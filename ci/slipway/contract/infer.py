"""Infer a first contract from a table: each column's role and type, the target's task and classes.

The result is a proposal for people to review (`contract.yaml` is the project's own afterwards), so
the rules are plain: strings unique per row are identifiers, constant columns are ignored, numeric
ranges are the observed ones widened by half their span, categories are the observed ones. A table
the pipeline cannot learn from is refused in one line naming the problem and the fix.
"""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING, Any, cast

from slipway.contract.coerce import as_bool, as_text
from slipway.contract.schema import ColumnSpec, ColumnType, Contract, ContractError, Label, TargetSpec, Task

if TYPE_CHECKING:
    import pandas as pd

MIN_ROWS = 20  # fewer cannot be split into a training set and a holdout worth scoring
MIN_CLASS_ROWS = 5  # every class needs rows on both sides of a stratified split
MAX_CLASSES = 50  # more distinct labels than this: regression (or a different target) was meant
MAX_CATEGORIES = 100  # a string column with more distinct values is not a category (free text)
ID_NAME = re.compile(r"(^|_)(id|uuid|key|index)$", re.IGNORECASE)


def _is_bool_like(values: pd.Series) -> bool:
    try:
        converted = {as_bool(v) for v in values.dropna().tolist()}
    except ValueError:
        return False
    return converted <= {0.0, 1.0} and len(converted) > 0


def column_type(series: pd.Series) -> ColumnType:
    """The contract type of a column, from its values (pandas' dtype first)."""
    import pandas as pd

    values = series.dropna()
    if pd.api.types.is_bool_dtype(series.dtype):
        return "boolean"
    if pd.api.types.is_numeric_dtype(series.dtype):
        integral = values.empty or bool((values.astype("float64") % 1 == 0).all())
        return "integer" if pd.api.types.is_integer_dtype(series.dtype) or integral else "float"
    if not values.empty and all(isinstance(v, bool) for v in values.tolist()):
        return "boolean"
    if _is_bool_like(values) and values.astype(str).str.lower().isin(["true", "false"]).all():
        return "boolean"
    return "string"


def widened(low: float, high: float) -> tuple[float, float]:
    """[low, high] widened by half the span each side (not below 0 for non-negative data), rounded out."""
    span = (high - low) or abs(high) or 1.0
    lower = low - span / 2
    if low >= 0 > lower:
        lower = 0.0
    return _round(lower, math.floor), _round(high + span / 2, math.ceil)


def _round(value: float, direction: Any) -> float:
    if value == 0:
        return 0.0
    scale = 10 ** (math.floor(math.log10(abs(value))) - 2)  # three significant digits
    return float(direction(value / scale) * scale)


def _identifier(name: str, series: pd.Series, kind: ColumnType, rows: int) -> str:
    """Why the column identifies rows rather than describing them ("" when it does not)."""
    values = series.dropna()
    if len(values) < rows or values.nunique() < rows:
        return ""
    if kind == "string":
        return "unique per row"
    if kind == "integer":
        consecutive = int(values.max()) - int(values.min()) + 1 == rows
        if consecutive or ID_NAME.search(name):
            return "unique per row, an id or row number"
    return ""


def infer_column(name: str, series: pd.Series) -> ColumnSpec:
    """A column's role, type, nullability and domain as the table shows them."""
    kind = column_type(series)
    rows = len(series)
    values = series.dropna()
    nullable = bool(series.isna().any())
    if values.nunique() <= 1:
        note = (
            "constant: one value in every row" if nullable is False else "at most one value besides missing"
        )
        return ColumnSpec(name, "ignored", kind, nullable, note=note)
    why = _identifier(name, series, kind, rows)
    if why:
        return ColumnSpec(name, "identifier", kind, nullable, note=why)
    if kind == "string":
        categories = sorted({as_text(v) for v in values.tolist()})
        if len(categories) > MAX_CATEGORIES:
            note = f"{len(categories)} distinct strings: free text, not categories"
            return ColumnSpec(name, "ignored", kind, nullable, note=note)
        return ColumnSpec(name, "feature", kind, nullable, categories=tuple(categories))
    if kind == "boolean":
        return ColumnSpec(name, "feature", kind, nullable)
    numbers = values.astype("float64")
    return ColumnSpec(
        name, "feature", kind, nullable, range=widened(float(numbers.min()), float(numbers.max()))
    )


def _labels(column: pd.Series, kind: ColumnType) -> list[Label]:
    values = column.tolist()
    if kind == "boolean":
        return sorted({as_bool(v) == 1.0 for v in values})
    if kind == "string":
        return cast(list[Label], sorted({str(v) for v in values}))
    return cast(list[Label], sorted({int(v) for v in values}))


def _classification_target(name: str, column: pd.Series, kind: ColumnType) -> TargetSpec:
    distinct = column.nunique()
    if distinct < 2:
        raise ContractError(
            f"target {name!r} holds one value ({column.iloc[0]!r}) in every row: nothing to learn;"
            " pick another target column"
        )
    if kind == "float":
        raise ContractError(
            f"target {name!r} holds {distinct} distinct fractional numbers: that is regression"
            " (answer ml_task=regression, or pass --task regression)"
        )
    if distinct > MAX_CLASSES:
        raise ContractError(
            f"target {name!r} has {distinct} distinct values, too many classes (at most {MAX_CLASSES}):"
            " for a quantity use regression (ml_task=regression / --task regression)"
        )
    labels = _labels(column, kind)
    counts = column.map(lambda v: str(v)).value_counts()
    rare = counts[counts < MIN_CLASS_ROWS]
    if len(rare):
        raise ContractError(
            f"class {rare.index[0]!r} of target {name!r} has {int(rare.iloc[0])} rows, fewer than"
            f" {MIN_CLASS_ROWS}: drop or merge rare classes before adopting the table"
        )
    smallest = float(counts.min() / counts.sum())
    share = math.floor(smallest / 2 * 1000) / 1000
    return TargetSpec(name, kind, labels=tuple(labels), min_class_share=share)


def _regression_target(name: str, column: pd.Series, kind: ColumnType) -> TargetSpec:
    if kind not in {"integer", "float"}:
        raise ContractError(
            f"target {name!r} is not numeric ({column.iloc[0]!r}): regression needs numbers"
            " (answer ml_task=classification, or pass --task classification)"
        )
    numbers = column.astype("float64")
    if numbers.nunique() < 2:
        raise ContractError(
            f"target {name!r} holds one value ({numbers.iloc[0]:g}) in every row: nothing to learn;"
            " pick another target column"
        )
    return TargetSpec(name, kind, range=widened(float(numbers.min()), float(numbers.max())))


def infer_task(column: pd.Series, kind: ColumnType) -> Task:
    """Classification for strings, booleans and few integer values; regression for other numbers."""
    if kind in {"string", "boolean"}:
        return "classification"
    if kind == "integer" and column.nunique() <= min(MAX_CLASSES, max(2, len(column) // 20)):
        return "classification"
    return "regression"


def infer_contract(frame: pd.DataFrame, target: str, task: Task | None = None, table: str = "") -> Contract:
    """A contract proposal for `frame` predicting `target`; bad tables raise ContractError (one line)."""
    if target not in frame.columns:
        shown = ", ".join(list(frame.columns)[:12]) + (" ..." if frame.shape[1] > 12 else "")
        raise ContractError(
            f"target column {target!r} is not in the table (columns: {shown}): pick one of them"
        )
    if len(frame) < MIN_ROWS:
        raise ContractError(
            f"the table has {len(frame)} rows, fewer than {MIN_ROWS}: too few to train and hold out"
        )
    column = frame[target]
    empty = int(column.isna().sum())
    if empty:
        raise ContractError(
            f"target {target!r} is empty in {empty} rows: drop those rows or pick another target"
        )
    kind = column_type(column)
    chosen = task or infer_task(column, kind)
    spec = _classification_target if chosen == "classification" else _regression_target
    target_spec = spec(target, column, kind)
    columns = tuple(infer_column(str(name), frame[name]) for name in frame.columns if name != target)
    if not any(c.role == "feature" for c in columns):
        roles = ", ".join(f"{c.name} ({c.note})" for c in columns[:6]) or "none"
        raise ContractError(
            f"the table has no usable feature besides the target: {roles}; add columns that describe each row"
        )
    duplicates = int(frame[[c.name for c in columns if c.role == "feature"] + [target]].duplicated().sum())
    return Contract(
        task=chosen, target=target_spec, columns=columns, table=table, no_duplicate_rows=duplicates == 0
    )
