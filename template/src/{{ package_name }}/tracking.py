"""MLflow tracking for the pipeline: one run per training, with the lineage a reviewer needs.

The tracking URI and experiment come from the environment (MLFLOW_TRACKING_URI,
MLFLOW_EXPERIMENT_NAME), which the nox sessions set from `[tool.slipway]`; run bare, MLflow's
default is `sqlite:///mlflow.db` in the project root, where DVC runs every stage.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from importlib.metadata import version
from pathlib import Path
from typing import Any, TypedDict

import mlflow
import pandas as pd
from mlflow.models import infer_signature
from slipway.config import load_project
from slipway.contract import Contract
from slipway.contract.schema import METADATA_KEY, to_dict
from slipway.model_file import load_model as load_safely
from slipway.registry import PROJECT_TAG
from slipway.store_seed import seed

from .params import Params

# What skops (MLflow's safe format) may rebuild besides scikit-learn's own estimators: the forest's
# trees and the dtypes the encoder keeps. The project's own list: slipway loads every model with it
# (never with the list logged inside a model, which whoever wrote the model chose).
TRUSTED_TYPES = ["numpy.dtype", "sklearn.tree._tree.Tree"]
PICKLE_FLAG = "MLFLOW_ALLOW_PICKLE_DESERIALIZATION"
# Listed, not inferred: inference re-imports the model and costs seconds per run.
SERVING_PACKAGES = ["scikit-learn", "numpy", "pandas", "skops"]


class TrainingRecord(TypedDict):
    run_id: str
    model_uri: str


def _git(*args: str) -> str:
    result = subprocess.run(["git", *args], capture_output=True, text=True, check=False)
    return result.stdout.strip() if result.returncode == 0 else ""


def project_id() -> str:
    """`[tool.slipway] project_id` of the pyproject.toml beside src/ (else the one in the cwd)."""
    beside_src = Path(__file__).resolve().parents[2] / "pyproject.toml"
    for pyproject in (beside_src, Path("pyproject.toml")):
        if pyproject.is_file():
            return load_project(pyproject).project_id
    return ""


def lineage_tags(params: Params, inputs: list[Path]) -> dict[str, str]:
    """Git commit and dirty flag, the MD5 of each input (as DVC computes it), the params hash, and
    the project's id ([tool.slipway] project_id), which the gates check before trusting a model."""
    tags = {
        PROJECT_TAG: project_id(),
        "git_commit": _git("rev-parse", "HEAD") or "none",
        "git_dirty": str(bool(_git("status", "--porcelain", "--untracked-files=no"))).lower(),
        "params_hash": hashlib.sha256(repr(asdict(params)).encode()).hexdigest()[:16],
    }
    for path in inputs:
        tags[f"data_md5.{path.as_posix()}"] = hashlib.md5(path.read_bytes()).hexdigest()
    return tags


def flat_params(params: Params) -> dict[str, Any]:
    """`model.max_depth`-style keys, as `dvc params diff` shows them."""
    return {
        f"{section}.{key}": value
        for section, values in asdict(params).items()
        for key, value in values.items()
    }


@contextmanager
def own_model_loadable() -> Iterator[None]:
    """Let MLflow load back the model this process just fitted (it checks the input example so).
    Everywhere else MLFLOW_ALLOW_PICKLE_DESERIALIZATION stays false: slipway loads models itself."""
    before = os.environ.get(PICKLE_FLAG)
    os.environ[PICKLE_FLAG] = "true"
    try:
        yield
    finally:
        if before is None:
            del os.environ[PICKLE_FLAG]
        else:
            os.environ[PICKLE_FLAG] = before


def log_training(
    model: Any, features: pd.DataFrame, params: Params, contract: Contract, inputs: list[Path]
) -> TrainingRecord:
    """Open the pipeline's run, log params, lineage and the model with its contract."""
    # A new local store is a copy of an empty one slipway caches, not seconds of schema migrations.
    seed(mlflow.get_tracking_uri())
    with mlflow.start_run() as run, own_model_loadable():
        mlflow.log_params(flat_params(params))
        mlflow.set_tags({**lineage_tags(params, inputs), "task": contract.task})
        info = mlflow.sklearn.log_model(
            model,
            name="model",
            signature=infer_signature(features, model.predict(features)),
            input_example=features.head(3),
            pip_requirements=[f"{name}=={version(name)}" for name in SERVING_PACKAGES],
            skops_trusted_types=TRUSTED_TYPES,
            metadata={METADATA_KEY: to_dict(contract)},  # the server's input types
        )
    return {"run_id": run.info.run_id, "model_uri": info.model_uri}


def load_model(model_uri: str) -> Any:
    """A fitted model from MLflow (`models:/...`, `runs:/...` or a local path), as the gates load
    it: skops only, with this project's TRUSTED_TYPES."""
    return load_safely(model_uri, TRUSTED_TYPES)


def log_evaluation(record: TrainingRecord, metrics: dict[str, float], plots: Path) -> None:
    """Add holdout metrics and plot tables to the same run the model was trained in."""
    with mlflow.start_run(run_id=record["run_id"]):
        mlflow.log_metrics({f"holdout_{name}": value for name, value in metrics.items()})
        mlflow.log_artifacts(str(plots), artifact_path="plots")
