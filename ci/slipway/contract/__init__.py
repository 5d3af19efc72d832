"""The data contract: a reviewed `contract.yaml` the project owns, describing its table.

`schema` holds the dataclasses and the YAML form; `infer` writes a first contract from a table;
`check` validates a table against a contract with one-line errors; `coerce` turns a table (or a
request's rows) into the typed features and target the model sees. pandas is imported lazily, so
reading a contract stays cheap (nox's own process reads it too).
"""

from slipway.contract.schema import (
    CONTRACT_FILE,
    ColumnSpec,
    Contract,
    ContractError,
    TargetSpec,
    load_contract,
)

__all__ = ["CONTRACT_FILE", "ColumnSpec", "Contract", "ContractError", "TargetSpec", "load_contract"]
