"""Stage `validate`: the raw table must meet the data contract before anything trains on it.

Usage: python -m <package>.stages.validate RAW_TABLE REPORT_JSON
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from slipway.contract import ContractError
from slipway.contract.check import summary, validate

from ..contract import load_contract
from ..data import load_table


def main(raw: Path, report: Path) -> None:
    contract = load_contract()
    frame = load_table(raw)
    validate(frame, contract)
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(json.dumps(summary(frame, contract), indent=2) + "\n")


if __name__ == "__main__":
    try:
        main(Path(sys.argv[1]), Path(sys.argv[2]))
    except ContractError as error:
        sys.exit(f"{sys.argv[1]}: {error}")
