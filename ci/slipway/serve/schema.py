"""Check a `dataframe_split` request against the model's input columns; one message per problem.

The columns come from the data contract logged with the model (or, for a model logged without
one, from its MLflow signature). Pure Python (no pandas, no FastAPI): the app calls it per
request, the tests call it directly. Every failure is an `InputError` carrying the HTTP status the
app answers with; what is worth knowing but not a reason to refuse (a category the contract does
not list) becomes a warning on the batch.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from slipway.contract import Contract

MAX_WARNINGS = 20  # per answer; the rest are counted in one closing line
WHOLE_RANGE = (-(2**63), 2**63 - 1)  # an integer column's values fit the model's int64

# What a column's values are checked as: any finite number, a whole number, true/false, a string,
# or anything (a signature type this schema does not know).
Kind = Literal["number", "whole", "boolean", "string", "any"]
CONTRACT_KINDS: dict[str, Kind] = {
    "integer": "number",  # the model sees every number as a float, as in training
    "float": "number",
    "boolean": "boolean",
    "string": "string",
}
SIGNATURE_KINDS: dict[str, Kind] = {
    "double": "number",
    "float": "number",
    "long": "whole",
    "integer": "whole",
    "boolean": "boolean",
    "string": "string",
}


class InputError(ValueError):
    """A request the model cannot score; `status` is the 4xx the client gets."""

    def __init__(self, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Column:
    """One input column: how its values are checked, and whether it may be left out or null."""

    name: str
    type: str  # as its source names it (contract: integer, float, boolean, string; or MLflow's)
    kind: Kind = "any"
    required: bool = True  # the column must be in the request
    nullable: bool = True  # null is a value (the model imputes it)
    categories: frozenset[str] = frozenset()  # strings: the known values (others are warned about)


@dataclass(frozen=True)
class Batch:
    """Validated rows as columns in schema order (values converted), and what is worth a warning."""

    columns: dict[str, list[Any]]
    rows: int
    warnings: tuple[str, ...] = ()  # at most MAX_WARNINGS + 1 lines, in row order
    unseen: dict[str, int] = field(default_factory=dict)  # column -> values not in its categories


def _describe(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**40:
        return "an integer too large for the model"  # str() of a huge int is slow, and not worth echoing
    text = json.dumps(value) if not isinstance(value, float) else repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _quoted(text: str) -> str:
    quoted = repr(text)
    return quoted if len(quoted) <= 40 else quoted[:37] + "..."


def _finite(value: float) -> float | None:
    """The number as a float, or None when it is not finite or too large for one (a 400-digit integer)."""
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def _duplicates(names: list[str]) -> list[str]:
    """The names listed more than once, sorted; one pass (a count per name is quadratic)."""
    seen: set[str] = set()
    repeated: set[str] = set()
    for name in names:
        (repeated if name in seen else seen).add(name)
    return sorted(repeated)


def _is_null(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _convert(column: Column, value: Any, row: int) -> Any:
    """The value as the model takes it (None for null), or InputError naming column, row and value."""
    where = f"column {column.name!r} row {row}"
    if _is_null(value):
        if not column.nullable:
            raise InputError(f"{where}: a value is required, got null")
        return None
    kind = column.kind
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    if kind == "number":
        number = _finite(value) if is_number else None
        if number is None:
            raise InputError(f"{where}: expected a number ({column.type}), got {_describe(value)}")
        return number
    if kind == "whole":
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if not is_number or not isinstance(value, int) or not WHOLE_RANGE[0] <= value <= WHOLE_RANGE[1]:
            raise InputError(f"{where}: expected an integer ({column.type}), got {_describe(value)}")
        return value
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        if is_number and value in (0, 1):
            return bool(value)
        raise InputError(f"{where}: expected true or false, got {_describe(value)}")
    if kind == "string" and not isinstance(value, str):
        raise InputError(f"{where}: expected a string, got {_describe(value)}")
    return value


@dataclass(frozen=True)
class InputSchema:
    """The model's input columns, from its data contract (or its MLflow signature)."""

    columns: tuple[Column, ...]
    max_rows: int = 10_000
    max_columns: int = 1_000  # names per request; never below the model's own column count

    @classmethod
    def from_contract(cls, contract: Contract, max_rows: int = 10_000) -> InputSchema:
        """The contract's feature columns, each checked by its type; null is accepted in every one."""
        columns = tuple(
            Column(
                spec.name,
                spec.type,
                CONTRACT_KINDS[spec.type],
                categories=frozenset(spec.categories),
            )
            for spec in contract.features
        )
        return cls(columns, max_rows)

    @classmethod
    def from_signature(cls, signature: Any, max_rows: int = 10_000) -> InputSchema:
        """From an `mlflow.models.ModelSignature` with named columns (a model logged without a contract)."""
        if signature is None or signature.inputs is None or not signature.inputs.has_input_names():
            raise ValueError(
                "the model has no column signature: log it with `signature=infer_signature(X, y)`"
            )
        columns = []
        for spec in signature.inputs.inputs:
            kind = str(getattr(spec.type, "name", spec.type))
            required = bool(getattr(spec, "required", True))
            columns.append(Column(spec.name, kind, SIGNATURE_KINDS.get(kind, "any"), required, not required))
        return cls(tuple(columns), max_rows)

    @property
    def names(self) -> list[str]:
        return [column.name for column in self.columns]

    def parse(self, body: bytes) -> Batch:
        """JSON bytes -> a Batch, or InputError naming the first problem (in words of ours, not Python's)."""
        try:
            payload = json.loads(body)
        except UnicodeDecodeError:
            raise InputError("body is not valid JSON: it is not UTF-8 text", 400) from None
        except json.JSONDecodeError as exc:
            where = f"line {exc.lineno} column {exc.colno}"
            raise InputError(f"body is not valid JSON: {exc.msg} at {where}", 400) from None
        except RecursionError:
            raise InputError("body is not valid JSON for this model: nested too deeply", 400) from None
        except ValueError:  # e.g. an integer past Python's digit limit
            raise InputError("body is not valid JSON for this model: a number is too long", 400) from None
        return self.validate(payload)

    def validate(self, payload: Any) -> Batch:
        if not isinstance(payload, dict) or "dataframe_split" not in payload:
            raise InputError(
                'expected a JSON object {"dataframe_split": {"columns": [...], "data": [[...], ...]}}',
                400,
            )
        split = payload["dataframe_split"]
        if not isinstance(split, dict):
            raise InputError("dataframe_split must be an object with 'columns' and 'data'", 400)
        names, data = split.get("columns"), split.get("data")
        if not isinstance(names, list):
            raise InputError("dataframe_split.columns must be a list of column names", 400)
        limit = max(self.max_columns, len(self.columns))
        if len(names) > limit:  # before any per-name work
            raise InputError(f"{len(names)} columns is over the limit of {limit}", 413)
        if not all(isinstance(name, str) for name in names):
            raise InputError("dataframe_split.columns must be a list of column names", 400)
        if not isinstance(data, list):
            raise InputError("dataframe_split.data must be a list of rows", 400)
        if len(data) > self.max_rows:
            raise InputError(f"batch of {len(data)} rows is over the limit of {self.max_rows}", 413)
        if len(set(names)) != len(names):
            duplicated = _duplicates(names)
            shown = ", ".join(_quoted(name) for name in duplicated[:5])
            more = f" and {len(duplicated) - 5} more" if len(duplicated) > 5 else ""
            raise InputError(f"duplicate column(s): {shown}{more}")
        if not data:
            raise InputError("empty batch: dataframe_split.data has no rows")
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
        warnings, unseen = _unseen_categories(self.columns, columns)
        return Batch(columns, len(data), warnings, unseen)


def _unseen_categories(
    columns: tuple[Column, ...], values: dict[str, list[Any]]
) -> tuple[tuple[str, ...], dict[str, int]]:
    """Warnings (row order, bounded) and per-column counts of strings outside a column's categories."""
    found: list[tuple[int, int, str]] = []
    counts: dict[str, int] = {}
    for order, column in enumerate(columns):
        if not column.categories:
            continue
        for row, value in enumerate(values[column.name]):
            if value is not None and value not in column.categories:
                counts[column.name] = counts.get(column.name, 0) + 1
                text = f"column {column.name!r} row {row}: unseen category {_quoted(value)}"
                found.append((row, order, text))
    found.sort()
    warnings = [text for _, _, text in found[:MAX_WARNINGS]]
    if len(found) > MAX_WARNINGS:
        warnings.append(f"{len(found) - MAX_WARNINGS} more unseen categories not listed")
    return tuple(warnings), counts
