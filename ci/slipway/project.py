"""What the gates need from a project: its settings, its metric functions, its holdout.

A project's package provides `metrics.score(y, scores)`, `metrics.prediction_scores(model, X)`,
`tracking.load_model(uri)` and `params.load_params()`; the gates import them, so a model is scored
by the same code whether the pipeline or a gate asks.
"""

from __future__ import annotations

import importlib
import json
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from slipway.config import GatesConfig, ProjectConfig, load_gates, load_project, tracking_uri
from slipway.errors import SlipwayError
from slipway.registry import Registry


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

    def module(self, name: str) -> ModuleType:
        try:
            return importlib.import_module(f"{self.config.package}.{name}")
        except ImportError as exc:
            raise SlipwayError(f"cannot import {self.config.package}.{name}: {exc}") from None

    def candidate(self) -> Candidate:
        path = self.root / self.gates.candidate
        if not path.exists():
            raise SlipwayError(f"no candidate: {self.gates.candidate} is missing; run `nox -s train` first")
        record = json.loads(path.read_text())
        return Candidate(run_id=record["run_id"], model_uri=record["model_uri"])

    def holdout(self) -> tuple[Any, Any]:
        """Features and target of the holdout table, as the project's loader reads them."""
        path = self.root / self.gates.holdout
        if not path.exists():
            raise SlipwayError(f"no holdout: {self.gates.holdout} is missing; run `nox -s train` first")
        target = self.module("params").load_params(self.root / "params.yaml").data.target
        frame = self.module("data").load_frame(path)
        features, values = self.module("data").split_features(frame, target)
        return features, values

    def scores(self, model_uri: str, features: Any) -> Any:
        """The model's scores on the features (probabilities or predictions, as the project defines)."""
        model = self.module("tracking").load_model(model_uri)
        return self.module("metrics").prediction_scores(model, features)

    def metrics(self, target: Any, scores: Any) -> dict[str, float]:
        return dict(self.module("metrics").score(target, scores))
