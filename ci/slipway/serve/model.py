"""Load the champion once: its registry version, data contract, input example and fitted model.

The request schema and the answers come from the contract logged with the model version (its
MLmodel metadata), so the server checks what that model was trained on, not today's workspace.
A model logged without a contract is served from its MLflow signature with plain `predict`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from slipway.config import load_project, tracking_uri
from slipway.contract.schema import METADATA_KEY, Contract, ContractError, Label, parse_contract
from slipway.errors import SlipwayError
from slipway.registry import CHAMPION, Registry, check_ours, reaching
from slipway.serve.schema import InputSchema

if TYPE_CHECKING:
    from slipway.package import ModelPackage


@dataclass(frozen=True)
class Scored:
    """One model call's answers, row by row: labels or values, and class probabilities if any."""

    predictions: list[Any]
    probabilities: list[list[float]] | None = None  # classification: one row per prediction, in class order

    def __len__(self) -> int:
        return len(self.predictions)

    def rows(self, start: int, stop: int) -> Scored:
        """The answers of rows [start, stop), for one of the requests scored together."""
        probabilities = self.probabilities[start:stop] if self.probabilities is not None else None
        return Scored(self.predictions[start:stop], probabilities)


Predict = Callable[[dict[str, list[Any]]], Scored]


@dataclass(frozen=True)
class ServedModel:
    """What the app serves: one registered version, fixed for the life of the process."""

    name: str
    version: str
    schema: InputSchema
    predict: Predict  # columns in schema order -> one answer per row
    classes: list[Label] | None = None  # classification: the labels, in probability order
    example: dict[str, Any] | None = None  # the logged serving input example, if any


def model_contract(meta: Any, source: str) -> Contract | None:
    """The contract in a model's MLmodel (`mlflow.models.Model`) metadata, or None when it has none.

    MLflow writes the metadata with sorted keys, so the columns come back alphabetical; they are
    put back in the order of the model's signature, the order the model was fitted on.
    """
    raw = (getattr(meta, "metadata", None) or {}).get(METADATA_KEY)
    if raw is None:
        return None
    contract = parse_contract(raw, f"{source} metadata {METADATA_KEY}")
    inputs = getattr(getattr(meta, "signature", None), "inputs", None)
    if inputs is None or not inputs.has_input_names():
        return contract
    position = {name: index for index, name in enumerate(inputs.input_names())}
    columns = sorted(contract.columns, key=lambda column: position.get(column.name, len(position)))
    return replace(contract, columns=tuple(columns))


def contract_predictor(api: ModelPackage, model: Any, contract: Contract) -> Predict:
    """Type the rows as the contract says (as in training), score them, answer in the data's labels."""
    import numpy as np
    import pandas as pd

    from slipway.contract.coerce import features

    labels = contract.labels

    def predict(columns: dict[str, list[Any]]) -> Scored:
        frame = pd.DataFrame(columns, columns=contract.feature_names)
        try:
            typed = features(frame, contract)
        except ContractError as exc:  # the schema checked the values first; a 422, should one slip by
            raise ValueError(str(exc)) from None
        scores = np.asarray(api.predict_scores(model, typed, contract), dtype=float)
        expected = (len(frame), len(labels)) if contract.is_classification else (len(frame),)
        if scores.shape != expected:
            raise SlipwayError(f"predict_scores gave shape {scores.shape}, expected {expected}")
        if not np.isfinite(scores).all():
            raise ValueError("the model gave a score that is not a finite number")
        if not contract.is_classification:
            return Scored([float(value) for value in scores.tolist()])
        return Scored([labels[int(i)] for i in scores.argmax(axis=1)], scores.tolist())

    return predict


def frame_predictor(model: Any, schema: InputSchema) -> Predict:
    """For a model without a contract: the frame its signature describes, through its `predict`."""
    import numpy as np
    import pandas as pd

    dtypes = {
        "double": "float64",
        "float": "float32",
        "long": "int64",
        "integer": "int32",
        "boolean": "bool",
    }

    def predict(columns: dict[str, list[Any]]) -> Scored:
        data = {}
        for column in schema.columns:
            values = columns[column.name]
            dtype = dtypes.get(column.type) if None not in values else None
            data[column.name] = np.asarray(values, dtype=dtype) if dtype else values
        result = model.predict(pd.DataFrame(data, columns=schema.names, copy=False))
        return Scored(list(np.asarray(result).tolist()))

    return predict


def load_champion(root: Path = Path(), *, alias: str = CHAMPION, max_rows: int = 10_000) -> ServedModel:
    """Resolve `models:/<name>@champion` to one version of this project, download it once, load it safely."""
    import mlflow
    from mlflow.models import Model

    from slipway.model_file import load_model
    from slipway.package import load_package

    config = load_project(root / "pyproject.toml")
    uri = tracking_uri(config, root.resolve())
    version = Registry(config.model_name, uri).alias(alias)
    if version is None:
        raise SlipwayError(f"model {config.model_name!r} has no {alias}: run `nox -s deploy` first")
    check_ours(version, config.project_id)
    source = f"models:/{config.model_name}/{version.version}"
    with reaching(uri, f"downloading {source}"):
        local = Path(mlflow.artifacts.download_artifacts(artifact_uri=source, tracking_uri=uri))
    mlflow.set_tracking_uri(uri)
    what = f"{alias} version {version.version}"
    api = load_package(config.package)
    model = load_model(str(local), api.TRUSTED_TYPES, what=what)
    meta = Model.load(str(local))
    example_path = local / "serving_input_example.json"
    example = json.loads(example_path.read_text()) if example_path.exists() else None
    contract = model_contract(meta, source)
    if contract is not None:
        schema = InputSchema.from_contract(contract, max_rows=max_rows)
        classes = contract.labels if contract.is_classification else None
        predict = contract_predictor(api, model, contract)
        return ServedModel(config.model_name, version.version, schema, predict, classes, example)
    try:
        schema = InputSchema.from_signature(meta.signature, max_rows=max_rows)
    except ValueError as exc:
        raise SlipwayError(f"{source}: {exc}") from None
    predict = frame_predictor(model, schema)
    return ServedModel(config.model_name, version.version, schema, predict, None, example)
