"""The reference's and the batch's feature columns, typed by the contract exactly as the model sees them.

Only features are compared: identifiers, ignored columns and the target are skipped, and a batch
column the contract does not name is listed, not read. The reference is the project's own table, so
a reference that breaks the contract is an error; a batch that does is a finding. Infinite numbers
count as missing: a column of `inf` is a broken feed, and the model's imputer sees a gap, not a value.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from slipway.contract.coerce import column_values
from slipway.contract.schema import Contract, ContractError

if TYPE_CHECKING:
    import pandas as pd


@dataclass
class Tables:
    """Typed feature columns of both tables (those the batch has, with the right type), in contract order."""

    reference: pd.DataFrame
    batch: pd.DataFrame
    missing_columns: list[str] = field(default_factory=list)  # features the batch lacks
    extra_columns: list[str] = field(default_factory=list)  # batch columns the contract does not name
    type_errors: dict[str, str] = field(default_factory=dict)  # feature -> why its values are not its type

    @property
    def complete(self) -> bool:
        """Every feature is there with its type: the model can score the batch."""
        return not self.missing_columns and not self.type_errors


def finite(values: pd.Series) -> pd.Series:
    """A typed column with +-inf as NaN (missing); text columns unchanged."""
    import numpy as np

    if values.dtype != np.float64:
        return values
    return values.where(np.isfinite(values.to_numpy()))


def typed_tables(
    reference: pd.DataFrame,
    batch: pd.DataFrame,
    contract: Contract,
    reference_name: str = "reference",
) -> Tables:
    """Both tables' features as the model sees them; a reference that breaks the contract raises."""
    import pandas as pd

    known = {c.name for c in contract.columns} | {contract.target.name}
    ref_columns: dict[str, pd.Series] = {}
    batch_columns: dict[str, pd.Series] = {}
    missing: list[str] = []
    errors: dict[str, str] = {}
    for spec in contract.features:
        if spec.name not in reference.columns:
            raise ContractError(
                f"{reference_name} lacks feature {spec.name!r} of the contract: retrain, or fix the reference"
            )
        try:
            ref_values = finite(column_values(reference[spec.name], spec))
        except ValueError as exc:
            raise ContractError(f"{reference_name}: column {spec.name!r} ({spec.type}): {exc}") from None
        if spec.name not in batch.columns:
            missing.append(spec.name)
            continue
        try:
            batch_columns[spec.name] = finite(column_values(batch[spec.name], spec))
        except ValueError as exc:
            errors[spec.name] = f"expected {spec.type}: {exc}"
            continue
        ref_columns[spec.name] = ref_values
    return Tables(
        reference=pd.DataFrame(ref_columns, index=reference.index),
        batch=pd.DataFrame(batch_columns, index=batch.index),
        missing_columns=missing,
        extra_columns=[name for name in batch.columns if name not in known],
        type_errors=errors,
    )
