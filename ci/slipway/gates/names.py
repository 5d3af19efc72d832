"""The gates' names without numpy: metric names by task (`config` checks `[tool.slipway.gates]` against
them) and the lineage tags evaluate copies onto a version and deploy records.

Light on purpose (nox's own process imports it); `metrics` builds its numpy forms in this order.
"""

from __future__ import annotations

CLASSIFICATION = ("roc_auc", "accuracy", "f1", "log_loss")  # binary, or macro over the classes
REGRESSION = ("rmse", "mae", "r2")
BY_TASK = {"classification": CLASSIFICATION, "regression": REGRESSION}
KNOWN = frozenset(CLASSIFICATION + REGRESSION)

# Tags the project's training run sets (template/src/<package>/tracking.py) and evaluate copies onto
# the registered version: git_commit/git_dirty, params_hash, and one `data_md5.<path>` per input file.
DATA_MD5 = "data_md5."
RUN_LINEAGE = ("git_", DATA_MD5, "params_hash")
VERDICT_ONLY_ENV = "SLIPWAY_VERDICT_ONLY"  # 1: evaluate's pull-request mode (no registry writes)
GATE_TAG = "slipway.gate"  # on the version: evaluate's metrics and comparisons (JSON)
LINEAGE_PREFIXES = (*RUN_LINEAGE, GATE_TAG)  # what a promotion records in its event
