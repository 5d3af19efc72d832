"""What slipway's gates, server and monitor call: the `slipway.package.ModelPackage` Protocol.

`load_model`, `predict_scores` and `score` are the pipeline's own functions, re-exported, so a
model is scored by the same code whether a DVC stage, a gate or the server asks.
"""

from __future__ import annotations

from .metrics import predict_scores, score
from .tracking import load_model

__all__ = ["load_model", "predict_scores", "score"]
