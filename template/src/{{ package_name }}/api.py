"""What slipway's gates, server and monitor call: the `slipway.package.ModelPackage` Protocol.

`predict_scores` and `score` are the pipeline's own functions, re-exported, so a model is scored by
the same code whether a DVC stage, a gate or the server asks; slipway loads every model with
TRUSTED_TYPES, the only types besides scikit-learn's own that skops may rebuild.
"""

from __future__ import annotations

from .metrics import predict_scores, score
from .tracking import TRUSTED_TYPES

__all__ = ["TRUSTED_TYPES", "predict_scores", "score"]
