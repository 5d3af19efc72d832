"""Check a table against its contract; the first problem is one line naming the column, the rule, an example.

Column rules (presence, type, missing values, range, categories), then the target (labels, class
shares or range), then the table (no duplicate rows). `check_no_overlap` guards the split.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from slipway.contract.coerce import column_values, label_of
from slipway.contract.schema import NUMERIC, ColumnSpec, Contract, ContractError

if TYPE_CHECKING:
    import pandas as pd

PREFIX = "data contract:"
TARGET = "(the target)"


def _example(values: pd.Series) -> str:
    return f"{len(values)} failing, e.g. {values.iloc[0]!r}"


def _fmt(value: float) -> str:
    return f"{value:g}"


def check_column(series: pd.Series, spec: ColumnSpec) -> None:
    """Type, missing values, range and categories of one column."""
    try:
        values = column_values(series, spec)
    except ValueError as exc:
        raise ContractError(f"{PREFIX} column {spec.name!r} breaks type {spec.type}: {exc}") from None
    missing = values.isna()
    if not spec.nullable and missing.any():
        raise ContractError(
            f"{PREFIX} column {spec.name!r} breaks not_nullable ({int(missing.sum())} missing values);"
            " set nullable: true in contract.yaml if they are expected"
        )
    present = values[~missing]
    if spec.type in NUMERIC and spec.range is not None:
        low, high = spec.range
        outside = present[(present < low) | (present > high)]
        if len(outside):
            raise ContractError(
                f"{PREFIX} column {spec.name!r} breaks in_range({_fmt(low)}, {_fmt(high)})"
                f" ({_example(outside)})"
            )
    if spec.type == "string" and spec.categories and spec.role == "feature":
        unknown = present[~present.isin(spec.categories)]
        if len(unknown):
            raise ContractError(
                f"{PREFIX} column {spec.name!r} breaks categories ({_example(unknown)});"
                " add the value to its categories in contract.yaml if it is valid"
            )


def check_target(frame: pd.DataFrame, contract: Contract) -> None:
    """Labels known and every class common enough (classification), values in range (regression)."""
    spec = contract.target
    column = frame[spec.name]
    if column.isna().any():
        raise ContractError(
            f"{PREFIX} column {spec.name!r} {TARGET} breaks not_nullable ({int(column.isna().sum())} missing)"
        )
    if not contract.is_classification:
        check_column(column, ColumnSpec(spec.name, "feature", spec.type, range=spec.range))
        return
    try:
        labels = column.map(lambda v: label_of(v, contract))
    except ValueError as exc:
        raise ContractError(
            f"{PREFIX} column {spec.name!r} {TARGET} breaks type {spec.type}: {exc}"
        ) from None
    unknown = column[~labels.isin(list(spec.labels))]
    if len(unknown):
        known = ", ".join(map(repr, spec.labels))
        raise ContractError(
            f"{PREFIX} column {spec.name!r} {TARGET} breaks labels [{known}] ({_example(unknown)})"
        )
    shares = labels.value_counts(normalize=True)
    absent = [label for label in spec.labels if label not in shares.index]
    if absent:
        raise ContractError(
            f"{PREFIX} column {spec.name!r} {TARGET} breaks class_balance: class {absent[0]!r} has no rows"
        )
    rarest = shares.idxmin()
    if shares.min() < spec.min_class_share:
        raise ContractError(
            f"{PREFIX} column {spec.name!r} {TARGET} breaks"
            f" class_balance(min_share={spec.min_class_share:g})"
            f" (class {rarest!r} is {shares.min():.3f} of rows)"
        )


def modelled_columns(contract: Contract) -> list[str]:
    """Features and target: the columns that make two rows the same example."""
    return [*contract.feature_names, contract.target.name]


def validate(frame: pd.DataFrame, contract: Contract) -> None:
    """The whole table against the contract; raises ContractError on the first problem."""
    known = {c.name for c in contract.columns} | {contract.target.name}
    for spec in contract.columns:
        if spec.name not in frame.columns and spec.role == "feature":
            raise ContractError(f"{PREFIX} column {spec.name!r} is missing")
    extra = [name for name in frame.columns if name not in known]
    if extra:
        raise ContractError(
            f"{PREFIX} column {extra[0]!r} is not in the contract: describe it in contract.yaml"
            " (role: feature, identifier or ignored)"
        )
    if contract.target.name not in frame.columns:
        raise ContractError(f"{PREFIX} column {contract.target.name!r} {TARGET} is missing")
    for spec in contract.columns:
        if spec.name in frame.columns:
            check_column(frame[spec.name], spec)
    check_target(frame, contract)
    if contract.no_duplicate_rows:
        repeated = frame.duplicated(subset=modelled_columns(contract))
        if repeated.any():
            raise ContractError(
                f"{PREFIX} table breaks no_duplicate_rows ({int(repeated.sum())} repeated rows, first at"
                f" row {int(repeated.to_numpy().argmax())})"
            )


def check_no_overlap(train: pd.DataFrame, holdout: pd.DataFrame, contract: Contract) -> None:
    """No example of the holdout may also be in the training set (same features and target)."""
    columns = modelled_columns(contract)
    overlap = train[columns].merge(holdout[columns], how="inner").drop_duplicates()
    if not overlap.empty:
        raise ContractError(
            f"{PREFIX} table breaks no_train_test_overlap ({len(overlap)} holdout rows also in train)"
        )


def summary(frame: pd.DataFrame, contract: Contract) -> dict[str, Any]:
    """What the validate stage records: rows, columns by role, missing cells, class counts."""
    roles = {
        role: sum(c.role == role for c in contract.columns) for role in ("feature", "identifier", "ignored")
    }
    out: dict[str, Any] = {
        "rows": len(frame),
        "columns": frame.shape[1],
        "features": roles["feature"],
        "missing_cells": int(frame[contract.feature_names].isna().sum().sum()),
    }
    if contract.is_classification:
        counts = frame[contract.target.name].map(lambda v: label_of(v, contract)).value_counts()
        out["classes"] = {str(label): int(counts.get(label, 0)) for label in contract.labels}
    return out
