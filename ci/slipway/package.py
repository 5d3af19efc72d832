"""What a project's package must give the gates, the server and the monitor: `<package>.api`.

Three functions, typed as a Protocol and checked when the package is loaded, so a project missing
one hears which, in one line, before any model is scored. Everything about the data (column types,
the target, the classes) comes from the contract, not from the package.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from slipway.errors import SlipwayError

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from slipway.contract import Contract

API_MODULE = "api"  # <package>.api


@runtime_checkable
class ModelPackage(Protocol):
    """The project module `<package>.api` (a module satisfies this Protocol through its functions)."""

    def load_model(self, model_uri: str) -> Any:
        """The fitted model logged at `model_uri` (`models:/...`, `runs:/...` or a local path)."""

    def predict_scores(self, model: Any, features: pd.DataFrame, contract: Contract) -> np.ndarray:
        """Classification: (rows, classes) probabilities in `contract.labels` order; regression: (rows,)."""

    def score(self, y_true: Any, scores: np.ndarray, contract: Contract) -> dict[str, float]:
        """The project's metrics of `scores` against the true labels or values."""


MEMBERS = ("load_model", "predict_scores", "score")


def load_package(package: str) -> ModelPackage:
    """Import `<package>.api` and check it provides every member of ModelPackage (one-line errors)."""
    name = f"{package}.{API_MODULE}"
    try:
        module = importlib.import_module(name)
    except ImportError as exc:
        raise SlipwayError(
            f"cannot import {name} ({exc}): the gates need it to provide {', '.join(MEMBERS)}"
        ) from None
    missing = [member for member in MEMBERS if not callable(getattr(module, member, None))]
    if missing or not isinstance(module, ModelPackage):
        raise SlipwayError(
            f"{name} lacks {', '.join(missing)}: slipway.package.ModelPackage lists what the gates call"
        )
    return module
