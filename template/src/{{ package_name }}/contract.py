"""The project's data contract: contract.yaml says what its table is (target, task, columns).

The file is data, reviewed like code: `nox -s data-adopt` infers it from a table, people edit it.
slipway.contract reads it and checks tables against it, the same way for the server and monitor.
"""

from __future__ import annotations

from pathlib import Path

from slipway.contract import Contract
from slipway.contract import load_contract as read_contract

CONTRACT = Path("contract.yaml")  # beside params.yaml; DVC stages run in the project root


def load_contract(path: Path = CONTRACT) -> Contract:
    """The contract, checked; a missing or malformed file is one line naming the fix."""
    return read_contract(path)
