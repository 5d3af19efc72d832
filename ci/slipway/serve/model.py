"""Load the champion once: its registry version, signature, input example and fitted model."""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from slipway.config import load_project, tracking_uri
from slipway.errors import SlipwayError
from slipway.registry import CHAMPION, Registry, reaching
from slipway.serve.schema import InputSchema

Predict = Callable[[dict[str, list[Any]]], list[Any]]


@dataclass(frozen=True)
class ServedModel:
    """What the app serves: one registered version, fixed for the life of the process."""

    name: str
    version: str
    schema: InputSchema
    predict: Predict  # columns in signature order -> one prediction per row
    example: dict[str, Any] | None = None  # the logged serving input example, if any


def frame_predictor(model: Any, schema: InputSchema) -> Predict:
    """Build the pandas frame the model was fitted on and call its `predict`."""
    import numpy as np
    import pandas as pd

    dtypes = {"double": "float64", "float": "float32", "long": "int64", "integer": "int32", "boolean": "bool"}

    def predict(columns: dict[str, list[Any]]) -> list[Any]:
        data = {}
        for column in schema.columns:
            values = columns[column.name]
            dtype = dtypes.get(column.type) if None not in values else None
            data[column.name] = np.asarray(values, dtype=dtype) if dtype else values
        result = model.predict(pd.DataFrame(data, columns=schema.names, copy=False))
        return list(np.asarray(result).tolist())

    return predict


def load_champion(root: Path = Path(), *, alias: str = CHAMPION, max_rows: int = 10_000) -> ServedModel:
    """Resolve `models:/<name>@champion` to one version, download it once and load it."""
    import mlflow
    from mlflow.models import Model

    config = load_project(root / "pyproject.toml")
    uri = tracking_uri(config, root.resolve())
    version = Registry(config.model_name, uri).alias(alias)
    if version is None:
        raise SlipwayError(f"model {config.model_name!r} has no {alias}: run `nox -s deploy` first")
    source = f"models:/{config.model_name}/{version.version}"
    with reaching(uri, f"downloading {source}"):
        local = Path(mlflow.artifacts.download_artifacts(artifact_uri=source, tracking_uri=uri))
    mlflow.set_tracking_uri(uri)
    meta = Model.load(str(local))
    try:
        schema = InputSchema.from_signature(meta.signature, max_rows=max_rows)
    except ValueError as exc:
        raise SlipwayError(f"{source}: {exc}") from None
    try:
        tracking = importlib.import_module(f"{config.package}.tracking")
    except ImportError as exc:
        raise SlipwayError(f"cannot import {config.package}.tracking: {exc}") from None
    model = tracking.load_model(str(local))
    example_path = local / "serving_input_example.json"
    example = json.loads(example_path.read_text()) if example_path.exists() else None
    return ServedModel(config.model_name, version.version, schema, frame_predictor(model, schema), example)
