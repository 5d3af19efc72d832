"""Drift monitoring without a project: the statistics on constructed data, `[tool.slipway.monitor]`,
the monitor on penguin tables with strings, missing values and unseen categories, prediction drift
by task, and the report."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from slipway.config import ConfigError, MonitorConfig, load_monitor
from slipway.contract.schema import ContractError
from slipway.monitor import report
from slipway.monitor.check import MonitorResult, category_labels, compare
from slipway.monitor.check import prediction_drift as check_prediction_drift
from slipway.monitor.stats import bin_edges, categorical_drift, numeric_drift, psi

from tests import penguins
from tests.penguins import FEATURES, SPECIES

# ---- drift statistics -------------------------------------------------------------------------


def test_psi_is_zero_for_the_same_distribution_and_large_for_a_shift() -> None:
    rng = np.random.default_rng(0)
    reference = rng.normal(size=5000)
    assert psi(reference, reference) == pytest.approx(0.0, abs=1e-12)
    assert psi(reference, rng.normal(size=2000)) < 0.05
    assert psi(reference, rng.normal(loc=1.0, size=2000)) > 0.5


def test_psi_bins_hold_equal_shares_of_the_reference_and_survive_constant_columns() -> None:
    reference = np.arange(1000, dtype=float)
    assert len(bin_edges(reference, 10)) == 9
    constant = np.full(100, 3.0)
    assert len(bin_edges(constant, 10)) == 1
    assert np.isfinite(psi(constant, np.full(50, 4.0)))


def test_numeric_drift_uses_ks_and_ignores_missing_values() -> None:
    rng = np.random.default_rng(1)
    reference = rng.normal(size=2000)
    same = numeric_drift(reference, np.append(rng.normal(size=500), [np.nan] * 20))
    shifted = numeric_drift(reference, rng.normal(loc=0.8, size=500))
    assert same.test == "ks"
    assert same.p_value > 0.01
    assert shifted.p_value < 1e-10
    assert shifted.statistic > 0.2


def test_categorical_drift_uses_chi_square_and_flags_a_new_category() -> None:
    reference = ["a"] * 500 + ["b"] * 500
    same = categorical_drift(reference, ["a"] * 48 + ["b"] * 52)
    new = categorical_drift(reference, ["a"] * 40 + ["b"] * 40 + ["c"] * 20)
    assert same.test == "chi2"
    assert same.p_value > 0.5
    assert same.psi < 0.01
    assert new.p_value < 1e-6
    assert new.psi > 0.5


def test_empty_inputs_give_nan_not_an_error() -> None:
    assert np.isnan(numeric_drift([], [1.0]).psi)
    assert np.isnan(categorical_drift(["a"], [None]).p_value)


# ---- [tool.slipway.monitor] -------------------------------------------------------------------


def test_monitor_config_defaults_and_one_line_errors(tmp_path: Path) -> None:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[tool.slipway]\npackage = "m"\n')
    assert load_monitor(pyproject) == MonitorConfig()
    pyproject.write_text('[tool.slipway]\npackage = "m"\n[tool.slipway.monitor]\nmax_psi = 0.3\nbins = 5\n')
    assert load_monitor(pyproject).max_psi == 0.3
    pyproject.write_text('[tool.slipway]\npackage = "m"\n[tool.slipway.monitor]\np_value = 2\n')
    with pytest.raises(ConfigError, match=r"p_value must be a number in \[0, 1\], got 2"):
        load_monitor(pyproject)
    pyproject.write_text('[tool.slipway]\npackage = "m"\n[tool.slipway.monitor]\nmax_pis = 0.3\n')
    with pytest.raises(ConfigError, match="unknown key 'max_pis'"):
        load_monitor(pyproject)


# ---- the monitor on the contract's features ---------------------------------------------------


def test_monitor_compares_only_features_typed_by_the_contract() -> None:
    batch = penguins.table(200, seed=1)
    batch["notes"] = "calm"  # an ignored column: skipped
    batch["weather"] = "sunny"  # not in the contract: listed
    tables, contract = penguins.monitor_tables(batch)
    result = compare(tables, contract, MonitorConfig())
    kinds = {f.name: (f.type, f.kind) for f in result.features}
    assert kinds == {
        "bill": ("float", "numeric"),
        "flippers": ("integer", "numeric"),
        "island": ("string", "categorical"),
        "tagged": ("boolean", "categorical"),
    }
    assert result.extra_columns == ["weather"]
    assert result.problems() == []
    assert tables.complete
    assert list(tables.batch.columns) == FEATURES
    island = next(f for f in result.features if f.name == "island")
    assert 0.05 < island.missing_batch < 0.15  # missing strings are counted, not a category
    assert np.isfinite(island.drift.psi)


def test_monitor_reports_unseen_categories_and_a_shifted_mix_of_categories() -> None:
    batch = penguins.table(300, seed=2)
    batch["island"] = pd.Series(["Dream"] * 240 + ["Atlantis"] * 40 + [None] * 20, dtype=object)
    batch.loc[:99, "tagged"] = None
    tables, contract = penguins.monitor_tables(batch)
    result = compare(tables, contract, MonitorConfig())
    assert result.unseen_categories == {"island": ["Atlantis"]}
    assert "island" in result.drifted_features
    assert "tagged" in result.missing_drifted
    problems = result.problems()
    assert "unseen categories: island ('Atlantis')" in problems
    assert any(p.startswith("drift in") and "island" in p for p in problems)
    data = result.to_json()
    assert data["passed"] is False
    assert data["unseen_categories"] == {"island": ["Atlantis"]}
    assert {f["name"]: f["type"] for f in data["features"]}["island"] == "string"
    json.dumps(data, allow_nan=False)


def test_monitor_lists_missing_and_mistyped_features_and_refuses_a_bad_reference() -> None:
    batch = penguins.table(100, seed=3).drop(columns=["tagged"])
    batch["flippers"] = "long"
    tables, contract = penguins.monitor_tables(batch)
    result = compare(tables, contract, MonitorConfig())
    assert not tables.complete
    assert result.missing_columns == ["tagged"]
    assert result.type_errors == {"flippers": "expected integer: 'long' is not a number"}
    assert result.problems()[:2] == [
        "missing column(s): tagged",
        "wrong type: flippers (expected integer: 'long' is not a number)",
    ]
    with pytest.raises(ContractError, match=r"data/processed/train\.csv lacks feature 'island'"):
        penguins.monitor_tables(batch, penguins.table().drop(columns=["island"]))
    bad = penguins.table()
    bad["bill"] = "wide"
    with pytest.raises(ContractError, match=r"train.csv: column 'bill' \(float\): 'wide' is not a number"):
        penguins.monitor_tables(penguins.table(), bad)


def test_monitor_config_categorical_still_turns_a_number_into_categories() -> None:
    tables, contract = penguins.monitor_tables(penguins.table(200, seed=4))
    result = compare(tables, contract, MonitorConfig(categorical=("flippers",)))
    assert {f.name: f.kind for f in result.features}["flippers"] == "categorical"
    assert category_labels(pd.Series([190.0, np.nan, 2.5]), "integer") == ["190", None, "2.5"]
    assert category_labels(pd.Series([1.0, 0.0, np.nan]), "boolean") == ["true", "false", None]


def _probabilities(rng: np.random.Generator, rows: int, weights: list[float]) -> np.ndarray:
    winners = rng.choice(len(weights), rows, p=weights)
    scores = rng.dirichlet(np.ones(len(weights)), rows) * 0.5
    scores[np.arange(rows), winners] += 1.0
    return np.asarray(scores / scores.sum(axis=1, keepdims=True))


def test_multiclass_prediction_drift_compares_the_mix_of_predicted_classes() -> None:
    rng = np.random.default_rng(0)
    contract = penguins.contract()
    reference = _probabilities(rng, 2000, [0.4, 0.3, 0.3])
    same, shifted = _probabilities(rng, 500, [0.4, 0.3, 0.3]), _probabilities(rng, 500, [0.1, 0.1, 0.8])
    calm = MonitorResult(reference_rows=2000, batch_rows=500)
    check_prediction_drift(calm, reference, same, contract, MonitorConfig())
    assert calm.prediction is not None
    assert calm.prediction.test == "chi2"
    assert calm.prediction_of == "predicted class"
    assert not calm.prediction_drifted
    result = MonitorResult(reference_rows=2000, batch_rows=500)
    predictions = check_prediction_drift(result, reference, shifted, contract, MonitorConfig())
    assert predictions.categorical
    assert set(predictions.batch) <= set(SPECIES)
    assert result.prediction_drifted
    assert list(result.prediction_shares) == SPECIES
    assert result.prediction_shares["Gentoo"][1] > 0.7
    assert "prediction drift in the predicted class (PSI" in result.problems()[-1]


def test_binary_prediction_drift_compares_the_probability_of_the_second_class() -> None:
    rng = np.random.default_rng(1)
    contract = penguins.contract(labels=[False, True])
    reference = _probabilities(rng, 2000, [0.7, 0.3])
    shifted = _probabilities(rng, 500, [0.2, 0.8])
    result = MonitorResult(reference_rows=2000, batch_rows=500)
    predictions = check_prediction_drift(result, reference, shifted, contract, MonitorConfig())
    assert not predictions.categorical
    assert np.allclose(predictions.batch, shifted[:, 1])
    assert result.prediction_of == "probability of True"
    assert result.prediction is not None
    assert result.prediction.test == "ks"
    assert result.prediction_drifted
    assert set(result.prediction_shares) == {"False", "True"}
    regression = MonitorResult(reference_rows=2000, batch_rows=500)
    check_prediction_drift(
        regression, reference[:, 0], reference[:500, 0], penguins.contract("regression"), MonitorConfig()
    )
    assert regression.prediction_of == "prediction"
    assert not regression.prediction_drifted
    assert regression.prediction_shares == {}


def test_monitor_report_names_unseen_categories(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    batch = penguins.table(100, seed=5)
    batch.loc[0, "island"] = "Atlantis"
    tables, contract = penguins.monitor_tables(batch)
    result = compare(tables, contract, MonitorConfig())
    result.contract = "model version 3"
    monkeypatch.setattr(report, "_plots", lambda *args: [])  # matplotlib is the serve group's, not the tests'
    json_path, html_path = report.write(result, tmp_path, tables, "batch.csv")
    saved = json.loads(json_path.read_text())
    assert saved["unseen_categories"] == {"island": ["Atlantis"]}
    assert saved["contract"] == "model version 3"
    assert saved["batch"] == "batch.csv"
    page = html_path.read_text()
    assert "Categories of island not in the contract: &#x27;Atlantis&#x27;" in page
    assert "unseen categories: island (&#x27;Atlantis&#x27;)" in page
