"""What the gates need from a project: its settings, its contract, its `<package>.api`, its tables.

The project's package provides `predict_scores`, `score` and `TRUSTED_TYPES` (the Protocol in
`slipway.package`); the gates call them, so a model is scored by the same code whether the
pipeline or a gate asks. Models are loaded by `slipway.model_file` only, with the project's trusted
types. Facts about the data (types, target, classes) come from `contract.yaml`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from slipway.config import GatesConfig, ProjectConfig, load_gates, load_project, tracking_uri
from slipway.contract import CONTRACT_FILE, Contract, load_contract
from slipway.errors import SlipwayError
from slipway.package import ModelPackage, load_package
from slipway.registry import Registry, Version, check_ours, require_project_id

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd


@dataclass(frozen=True)
class Candidate:
    """The train stage's record: the MLflow run and logged model the pipeline produced."""

    run_id: str
    model_uri: str


@dataclass
class Project:
    config: ProjectConfig
    gates: GatesConfig
    root: Path

    @classmethod
    def load(cls, root: Path = Path()) -> Project:
        pyproject = root / "pyproject.toml"
        return cls(load_project(pyproject), load_gates(pyproject), root.resolve())

    @property
    def tracking_uri(self) -> str:
        return tracking_uri(self.config, self.root)

    def registry(self) -> Registry:
        """The project's registered model in its tracking store."""
        return Registry(self.config.model_name, self.tracking_uri)

    @cached_property
    def contract(self) -> Contract:
        """The project's `contract.yaml`, read once."""
        return load_contract(self.root / CONTRACT_FILE)

    @cached_property
    def api(self) -> ModelPackage:
        """`<package>.api`, imported and checked against the ModelPackage Protocol once."""
        return load_package(self.config.package)

    def candidate(self) -> Candidate:
        path = self.root / self.gates.candidate
        if not path.exists():
            raise SlipwayError(f"no candidate: {self.gates.candidate} is missing; run `nox -s train` first")
        try:
            record = json.loads(path.read_text())
            fields = (record["run_id"], record["model_uri"])
        except (ValueError, TypeError, KeyError):
            record, fields = None, ("", "")
        if record is None or not all(isinstance(field, str) and field for field in fields):
            raise SlipwayError(
                f"{self.gates.candidate} is not the train stage's record (JSON with run_id and"
                " model_uri): run `nox -s train` again"
            )
        return Candidate(run_id=fields[0], model_uri=fields[1])

    def _table(self, relative: str, what: str) -> pd.DataFrame:
        from slipway.contract.coerce import read_table

        path = self.root / relative
        if not path.exists():
            raise SlipwayError(f"no {what}: {relative} is missing; run `nox -s train` first")
        return read_table(path)

    def holdout(self) -> tuple[pd.DataFrame, pd.Series]:
        """Typed features and the target of the holdout table, as the contract says."""
        from slipway.contract.coerce import features, target

        frame = self._table(self.gates.holdout, "holdout")
        return features(frame, self.contract), target(frame, self.contract)

    def train_target(self) -> pd.Series:
        """The training table's target: what the naive baseline learns from."""
        from slipway.contract.coerce import target

        return target(self._table(self.gates.train, "training table"), self.contract)

    @property
    def project_id(self) -> str:
        """`[tool.slipway] project_id`, which every run and version of the project carries."""
        return require_project_id(self.config.project_id)

    def ours(self, version: Version) -> Version:
        """The version, if this project made it; else one line naming it (see registry.check_ours)."""
        return check_ours(version, self.config.project_id)

    def load_model(self, model_uri: str, what: str = "") -> Any:
        """The model at `model_uri`, loaded safely: skops only, with the project's TRUSTED_TYPES."""
        from slipway.model_file import load_model

        return load_model(model_uri, self.api.TRUSTED_TYPES, tracking_uri=self.tracking_uri, what=what)

    def scores(self, model: Any, features: pd.DataFrame, model_uri: str) -> np.ndarray:
        """The model's scores: (rows, classes) probabilities in `contract.labels` order, or (rows,)."""
        import numpy as np

        scores = np.asarray(self.api.predict_scores(model, features, self.contract), dtype=float)
        rows, labels = len(features), self.contract.labels
        expected = (rows, len(labels)) if self.contract.is_classification else (rows,)
        if scores.shape != expected:
            raise SlipwayError(
                f"{self.config.package}.api.predict_scores gave shape {scores.shape} for {model_uri},"
                f" expected {expected} ({'rows, classes' if labels else 'rows'})"
            )
        return scores

    def metrics(self, target: Any, scores: np.ndarray) -> dict[str, float]:
        """The project's own metrics of the scores (what thresholds judge)."""
        return {name: float(value) for name, value in self.api.score(target, scores, self.contract).items()}
