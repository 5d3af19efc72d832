"""Stage `featurize`: split the validated table into train and holdout sets (seeded), leak-free.

Usage: python -m <package>.stages.featurize RAW_TABLE OUT_DIR
"""

from __future__ import annotations

import sys
from pathlib import Path

from slipway.contract import ContractError
from slipway.contract.check import check_no_overlap

from ..contract import load_contract
from ..data import load_table, split_frame
from ..params import load_params


def main(raw: Path, out_dir: Path) -> None:
    params = load_params()
    contract = load_contract()
    train, test = split_frame(load_table(raw), contract, params.split.test_size, params.split.seed)
    check_no_overlap(train, test, contract)
    out_dir.mkdir(parents=True, exist_ok=True)
    train.to_csv(out_dir / "train.csv", index=False)
    test.to_csv(out_dir / "test.csv", index=False)


if __name__ == "__main__":
    try:
        main(Path(sys.argv[1]), Path(sys.argv[2]))
    except ContractError as error:
        sys.exit(str(error))
