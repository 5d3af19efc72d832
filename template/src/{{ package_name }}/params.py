"""Typed view of params.yaml: the one place pipeline parameters live (DVC tracks it per stage)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml


@dataclass(frozen=True)
class DataParams:
    raw: Path  # the table the pipeline trains on; contract.yaml says what its columns are


@dataclass(frozen=True)
class SplitParams:
    test_size: float
    seed: int


@dataclass(frozen=True)
class ModelParams:
    n_estimators: int
    max_depth: int | None
    min_samples_leaf: int
    seed: int


@dataclass(frozen=True)
class Params:
    data: DataParams
    split: SplitParams
    model: ModelParams


def load_params(path: Path = Path("params.yaml")) -> Params:
    """Read params.yaml; a missing key fails here, naming it, not deep inside a stage."""
    raw: dict[str, Any] = yaml.safe_load(path.read_text())
    try:
        return Params(
            data=DataParams(raw=Path(raw["data"]["raw"])),
            split=SplitParams(**raw["split"]),
            model=ModelParams(**raw["model"]),
        )
    except (KeyError, TypeError) as exc:
        raise SystemExit(f"{path}: missing or unexpected parameter {exc}") from None
