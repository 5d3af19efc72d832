"""Stage `train`: fit the model on the training split and record it as an MLflow run.

Usage: python -m <package>.stages.train TRAIN_CSV RECORD_JSON
The record (run id, model URI) is the DVC output: an unchanged re-run restores it, no new run.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from ..contract import load_contract
from ..data import load_table, split_features
from ..model import build_model
from ..params import load_params
from ..tracking import log_training


def main(train_csv: Path, record: Path) -> None:
    params = load_params()
    contract = load_contract()
    features, target = split_features(load_table(train_csv), contract)
    model = build_model(params.model, contract).fit(features, target)
    logged = log_training(model, features, params, contract, inputs=[train_csv])
    record.parent.mkdir(parents=True, exist_ok=True)
    record.write_text(json.dumps(logged, indent=2) + "\n")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
