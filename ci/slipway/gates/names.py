"""The gates' metric names by task, without numpy: `config` checks `[tool.slipway.gates]` against them.

Light on purpose (nox's own process imports it); `metrics` builds its numpy forms in this order.
"""

from __future__ import annotations

CLASSIFICATION = ("roc_auc", "accuracy", "f1", "log_loss")  # binary, or macro over the classes
REGRESSION = ("rmse", "mae", "r2")
BY_TASK = {"classification": CLASSIFICATION, "regression": REGRESSION}
KNOWN = frozenset(CLASSIFICATION + REGRESSION)
