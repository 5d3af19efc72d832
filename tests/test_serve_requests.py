"""A request's way through the server, without a project: validation against an MLflow signature
and against the contract logged with the model (types, nulls, unseen categories), the predictor's
labels and probabilities with a small fitted pipeline, and the batcher."""

from __future__ import annotations

import asyncio
import json
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import pytest
from slipway.contract.coerce import features, target
from slipway.contract.schema import METADATA_KEY, Contract, ContractError, to_dict
from slipway.serve.app import Batcher, answer
from slipway.serve.model import Scored, ServedModel, contract_predictor, model_contract
from slipway.serve.schema import MAX_WARNINGS, InputError, InputSchema

from tests import penguins
from tests.penguins import FEATURES, SPECIES

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

ROW = ["bill", "flippers", "island", "tagged"]  # a request's order: any


def test_contract_schema_checks_each_feature_by_its_type_and_accepts_null_anywhere() -> None:
    schema = InputSchema.from_contract(penguins.contract())
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
        InputSchema.from_contract(penguins.contract()).parse(_body(ROW, [row]))
    assert error.value.status == 422
    assert str(error.value) == message


def test_contract_schema_still_requires_every_feature_column() -> None:
    with pytest.raises(InputError, match=r"missing column\(s\): island"):
        InputSchema.from_contract(penguins.contract()).parse(
            _body(["bill", "flippers", "tagged"], [[39.1, 190, True]])
        )


def test_an_unseen_category_is_a_warning_not_a_refusal_and_warnings_are_bounded() -> None:
    schema = InputSchema.from_contract(penguins.contract())
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
    contract = penguins.contract()
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
    contract = penguins.contract()
    model = _fitted(contract, penguins.table())
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
    contract = penguins.contract(labels=labels)
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
    contract = penguins.contract("regression")
    model = _FixedModel([0], [[0.25], [0.5]])
    served = _served(
        contract_predictor(_package_api(), model, contract), InputSchema.from_contract(contract), None
    )
    scored = served.predict(served.schema.parse(_body(ROW, [[39.1, 190, "Dream", True]] * 2)).columns)
    assert scored.predictions == [25.0, 50.0]
    assert scored.probabilities is None
    assert list(answer(served, scored)) == ["predictions", "model"]


def test_the_batcher_scores_requests_together_and_splits_the_answers_back() -> None:
    contract = penguins.contract()
    model = _fitted(contract, penguins.table())
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
