"""Tables the tests make: mixed types, missing values, an id, a constant, several kinds of label.

Each is learnable (the label depends on numeric, categorical and boolean columns), so a real model
beats the naive baseline on it, and seeded, so every run makes the same bytes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

CITIES = ["Lisbon", "Oslo", "Rome", "Tunis", "Vilnius"]


def mixed_table(labels: str = "3-class", rows: int = 400, seed: int = 0) -> pd.DataFrame:
    """`labels`: "2-class", "3-class", "5-class" (string labels), "bool", "int" or "regression"."""
    rng = np.random.default_rng(seed)
    income = rng.gamma(4.0, 12_000.0, rows).round(2)
    age = rng.integers(18, 90, rows).astype(float)
    city = rng.choice(CITIES, rows)
    member = rng.random(rows) < 0.4
    signal = (
        (income - income.mean()) / income.std()
        + np.where(np.isin(city, ["Oslo", "Vilnius"]), 1.2, -0.4)
        + np.where(member, 0.8, -0.3)
        + rng.normal(0, 0.35, rows)
    )
    frame = pd.DataFrame(
        {
            "customer_id": [f"c-{seed}-{i:06d}" for i in range(rows)],
            "age": age,
            "income": income,
            "city": pd.Series(city, dtype=object),
            "member": pd.Series(member, dtype=object),
            "source": "web",  # constant: not a feature
        }
    )
    for column, share in (("age", 0.05), ("income", 0.08), ("city", 0.06), ("member", 0.04)):
        frame.loc[rng.random(rows) < share, column] = np.nan
    frame["target"] = _labels(labels, signal, rng)
    return frame


def _labels(labels: str, signal: np.ndarray, rng: np.random.Generator) -> object:
    if labels == "regression":
        return (50.0 + 20.0 * signal).round(3)
    if labels == "bool":
        return signal > 0
    if labels == "int":
        return np.digitize(signal, np.quantile(signal, [1 / 3, 2 / 3])) * 10
    classes = int(labels.split("-")[0])
    names = np.array(["alpha", "beta", "gamma", "delta", "epsilon"][:classes])
    return names[np.digitize(signal, np.quantile(signal, np.linspace(0, 1, classes + 1)[1:-1]))]


def write(frame: pd.DataFrame, path: Path) -> Path:
    """CSV or Parquet by the suffix, as a user would hand the table over."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".parquet":
        frame.to_parquet(path, index=False)
    else:
        frame.to_csv(path, index=False)
    return path


def sklearn_table(name: str) -> pd.DataFrame:
    """One of scikit-learn's bundled sets (no download) as a frame with a `target` column."""
    from sklearn import datasets

    loader = {"iris": datasets.load_iris, "wine": datasets.load_wine, "diabetes": datasets.load_diabetes}[
        name
    ]
    bunch = loader(as_frame=True)
    frame: pd.DataFrame = bunch.frame.rename(columns=lambda c: str(c).replace(" (cm)", "").replace(" ", "_"))
    if name == "iris":
        frame["target"] = np.asarray(bunch.target_names)[bunch.target]  # string labels, as teams have them
    return frame
