"""Check a `dataframe_split` request against the model signature; one message per problem.

Pure Python (no pandas, no FastAPI): the app calls it per request, the tests call it directly.
Every failure is an `InputError` carrying the HTTP status the app answers with.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

# MLflow signature types -> the JSON values a column accepts.
NUMERIC = {"double", "float"}
INTEGER = {"long", "integer"}


class InputError(ValueError):
    """A request the model cannot score; `status` is the 4xx the client gets."""

    def __init__(self, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # MLflow's name: double, float, long, integer, boolean, string, ...
    required: bool = True


@dataclass(frozen=True)
class Batch:
    """Validated rows as columns in signature order (values already converted)."""

    columns: dict[str, list[Any]]
    rows: int


def _describe(value: Any) -> str:
    text = json.dumps(value) if not isinstance(value, float) else repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _convert(column: Column, value: Any, row: int) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        if column.required:
            raise InputError(f"column {column.name!r} row {row}: a value is required, got null")
        return None
    kind = column.type
    if kind in NUMERIC:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InputError(
                f"column {column.name!r} row {row}: expected a number ({kind}), got {_describe(value)}"
            )
        return float(value)
    if kind in INTEGER:
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise InputError(
                f"column {column.name!r} row {row}: expected an integer ({kind}), got {_describe(value)}"
            )
        return value
    if kind == "boolean" and not isinstance(value, bool):
        raise InputError(f"column {column.name!r} row {row}: expected true or false, got {_describe(value)}")
    if kind == "string" and not isinstance(value, str):
        raise InputError(f"column {column.name!r} row {row}: expected a string, got {_describe(value)}")
    return value


@dataclass(frozen=True)
class InputSchema:
    """The model's input columns, from its MLflow signature."""

    columns: tuple[Column, ...]
    max_rows: int = 10_000

    @classmethod
    def from_signature(cls, signature: Any, max_rows: int = 10_000) -> InputSchema:
        """From an `mlflow.models.ModelSignature` whose inputs are named columns."""
        if signature is None or signature.inputs is None or not signature.inputs.has_input_names():
            raise ValueError(
                "the model has no column signature: log it with `signature=infer_signature(X, y)`"
            )
        columns = tuple(
            Column(
                spec.name, str(getattr(spec.type, "name", spec.type)), bool(getattr(spec, "required", True))
            )
            for spec in signature.inputs.inputs
        )
        return cls(columns, max_rows)

    @property
    def names(self) -> list[str]:
        return [column.name for column in self.columns]

    def parse(self, body: bytes) -> Batch:
        """JSON bytes -> a Batch, or InputError naming the first problem."""
        try:
            payload = json.loads(body)
        except (UnicodeDecodeError, ValueError) as exc:
            raise InputError(f"body is not valid JSON: {exc}", 400) from None
        return self.validate(payload)

    def validate(self, payload: Any) -> Batch:
        if not isinstance(payload, dict) or "dataframe_split" not in payload:
            raise InputError(
                'expected a JSON object {"dataframe_split": {"columns": [...], "data": [[...], ...]}}', 400
            )
        split = payload["dataframe_split"]
        if not isinstance(split, dict):
            raise InputError("dataframe_split must be an object with 'columns' and 'data'", 400)
        names, data = split.get("columns"), split.get("data")
        if not (isinstance(names, list) and all(isinstance(name, str) for name in names)):
            raise InputError("dataframe_split.columns must be a list of column names", 400)
        if len(set(names)) != len(names):
            duplicated = sorted({name for name in names if names.count(name) > 1})
            raise InputError(f"duplicate column(s): {', '.join(duplicated)}")
        if not isinstance(data, list):
            raise InputError("dataframe_split.data must be a list of rows", 400)
        if not data:
            raise InputError("empty batch: dataframe_split.data has no rows")
        if len(data) > self.max_rows:
            raise InputError(f"batch of {len(data)} rows is over the limit of {self.max_rows}", 413)
        position = {name: index for index, name in enumerate(names)}
        missing = [c.name for c in self.columns if c.name not in position and c.required]
        if missing:
            shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
            raise InputError(f"missing column(s): {shown}")
        width = len(names)
        for row, values in enumerate(data):
            if not isinstance(values, list) or len(values) != width:
                got = f"{len(values)} values" if isinstance(values, list) else _describe(values)
                raise InputError(f"row {row} must be a list of {width} values (one per column), got {got}")
        columns: dict[str, list[Any]] = {}
        for column in self.columns:
            index = position.get(column.name)
            if index is None:
                columns[column.name] = [None] * len(data)
                continue
            columns[column.name] = [_convert(column, values[index], row) for row, values in enumerate(data)]
        return Batch(columns, len(data))
