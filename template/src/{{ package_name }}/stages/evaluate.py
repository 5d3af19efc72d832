"""Stage `evaluate`: score the trained model on the holdout; metrics and plots for DVC and MLflow.

Usage: python -m <package>.stages.evaluate RECORD_JSON TEST_CSV REPORTS_DIR
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from slipway.contract import Contract

from ..contract import load_contract
from ..data import load_table, split_features
from ..metrics import predict_scores, score
from ..tracking import TrainingRecord, load_model, log_evaluation


def predictions_table(target: pd.Series, scores: np.ndarray, contract: Contract) -> pd.DataFrame:
    """Actual against predicted per holdout row: a confusion matrix or a scatter in `dvc plots`."""
    if contract.is_classification:
        predicted = [contract.labels[index] for index in scores.argmax(axis=1)]
        return pd.DataFrame(
            {"actual": target.astype(str).to_numpy(), "predicted": list(map(str, predicted))}
        )
    return pd.DataFrame(
        {"actual": target.to_numpy(), "predicted": scores, "residual": target.to_numpy() - scores}
    )


def main(record_json: Path, test_csv: Path, reports: Path) -> None:
    contract = load_contract()
    record: TrainingRecord = json.loads(record_json.read_text())
    features, target = split_features(load_table(test_csv), contract)
    scores = predict_scores(load_model(record["model_uri"]), features, contract)
    metrics = score(target, scores, contract)
    (reports / "plots").mkdir(parents=True, exist_ok=True)
    (reports / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    predictions_table(target, scores, contract).to_csv(
        reports / "plots" / "predictions.csv", index=False
    )
    log_evaluation(record, metrics, reports / "plots")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]))
