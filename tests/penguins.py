"""Penguins for the serving and monitoring tests: a contract with every kind of column, a table
that meets it (some values missing), and the monitor's typed tables of a batch against it."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from slipway.contract.schema import Contract, parse_contract
from slipway.monitor.tables import Tables, typed_tables

SPECIES = ["Adelie", "Chinstrap", "Gentoo"]


def contract(task: str = "classification", labels: list[Any] | None = None) -> Contract:
    """A contract the tests write: an identifier, numbers, a boolean, a category, each nullable or not."""
    target: dict[str, Any] = {"name": "species", "type": "string", "labels": labels or SPECIES}
    if labels and isinstance(labels[0], bool):
        target["type"] = "boolean"
    elif labels and isinstance(labels[0], int):
        target["type"] = "integer"
    if task == "regression":
        target = {"name": "mass", "type": "float"}
    return parse_contract(
        {
            "task": task,
            "target": target,
            "columns": {
                "penguin_id": {"role": "identifier", "type": "string"},
                "island": {
                    "role": "feature",
                    "type": "string",
                    "categories": ["Biscoe", "Dream", "Torgersen"],
                },
                "bill": {"role": "feature", "type": "float", "nullable": True, "range": [30, 60]},
                "notes": {"role": "ignored", "type": "string"},
                "tagged": {"role": "feature", "type": "boolean"},
                "flippers": {"role": "feature", "type": "integer"},
            },
        }
    )


FEATURES = ["island", "bill", "tagged", "flippers"]  # the contract's order, which the model is fitted in


def table(rows: int = 120, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    island = rng.choice(["Biscoe", "Dream", "Torgersen"], rows)
    species = np.where(island == "Biscoe", "Gentoo", np.where(island == "Dream", "Chinstrap", "Adelie"))
    frame = pd.DataFrame(
        {
            "penguin_id": [f"p-{i}" for i in range(rows)],
            "bill": rng.normal(45, 5, rows),
            "flippers": rng.integers(170, 230, rows),
            "island": pd.Series(island, dtype=object),
            "tagged": pd.Series(rng.random(rows) < 0.5, dtype=object),
            "species": species,
        }
    )
    frame.loc[rng.random(rows) < 0.1, "bill"] = np.nan
    frame.loc[rng.random(rows) < 0.1, "island"] = np.nan
    return frame


def monitor_tables(batch: pd.DataFrame, reference: pd.DataFrame | None = None) -> tuple[Tables, Contract]:
    """`batch` and `reference` (400 penguins unless given) typed by the contract, and the contract."""
    agreed = contract()
    reference = table(400) if reference is None else reference
    return typed_tables(reference, batch, agreed, "data/processed/train.csv"), agreed
