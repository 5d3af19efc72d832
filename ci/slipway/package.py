"""What a project's package must give the gates, the server and the monitor: `<package>.api`.

Two functions and the list of types skops may rebuild, typed as a Protocol and checked when the
package is loaded, so a project missing one hears which, in one line, before any model is scored.
Models are loaded by slipway itself (`slipway.model_file`), never by project code, and only with
the project's TRUSTED_TYPES. Everything about the data comes from the contract, not the package.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
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

    @property
    def TRUSTED_TYPES(self) -> Sequence[str]:
        """What skops may rebuild besides scikit-learn's own estimators, e.g. "sklearn.tree._tree.Tree"."""

    def predict_scores(self, model: Any, features: pd.DataFrame, contract: Contract) -> np.ndarray:
        """Classification: (rows, classes) probabilities in `contract.labels` order; regression: (rows,)."""

    def score(self, y_true: Any, scores: np.ndarray, contract: Contract) -> dict[str, float]:
        """The project's metrics of `scores` against the true labels or values."""


MEMBERS = ("TRUSTED_TYPES", "predict_scores", "score")


def load_package(package: str) -> ModelPackage:
    """Import `<package>.api` and check it provides every member of ModelPackage (one-line errors)."""
    name = f"{package}.{API_MODULE}"
    try:
        module = importlib.import_module(name)
    except ImportError as exc:
        raise SlipwayError(
            f"cannot import {name} ({exc}): the gates need it to provide {', '.join(MEMBERS)}"
        ) from None
    missing = [member for member in MEMBERS[1:] if not callable(getattr(module, member, None))]
    trusted = getattr(module, "TRUSTED_TYPES", None)
    if not (isinstance(trusted, list | tuple) and all(isinstance(name, str) for name in trusted)):
        missing.insert(0, "TRUSTED_TYPES (a list of type names, from .tracking)")
    if missing or not isinstance(module, ModelPackage):
        raise SlipwayError(
            f"{name} lacks {', '.join(missing)}: slipway.package.ModelPackage lists what the gates call"
        )
    return module
