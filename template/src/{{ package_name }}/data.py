"""Load the raw table as its contract types it, and split it into train and holdout, reproducibly.

The contract (contract.yaml) says which columns are features, which is the target and what type
each has; slipway.contract does the reading and converting, the same way for the server.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from slipway.contract import Contract
from slipway.contract.check import modelled_columns
from slipway.contract.coerce import features, read_table, target


def load_table(path: Path) -> pd.DataFrame:
    """A CSV or Parquet table, as written (a bad file is one line naming it)."""
    return read_table(path)


def split_features(frame: pd.DataFrame, contract: Contract) -> tuple[pd.DataFrame, pd.Series]:
    """The typed feature columns the model sees, and the target (labels as in the data)."""
    return features(frame, contract), target(frame, contract)


def split_frame(
    frame: pd.DataFrame, contract: Contract, test_size: float, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Drop repeated examples, then split rows into train and holdout (stratified by class)."""
    # imported here: the validate stage loads tables too, and importing scikit-learn costs it ~1 s
    from sklearn.model_selection import train_test_split

    unique = frame.drop_duplicates(subset=modelled_columns(contract))
    labels = target(unique, contract) if contract.is_classification else None
    train, test = train_test_split(unique, test_size=test_size, random_state=seed, stratify=labels)
    return train.reset_index(drop=True), test.reset_index(drop=True)
