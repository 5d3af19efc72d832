"""Champion vs challenger on the same holdout rows: a paired bootstrap of the improvement.

Resampling rows (not models) keeps the pairing: each resample scores both models on the same rows,
so the interval reflects how much the holdout's luck could explain the difference.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from slipway.gates.metrics import Array, Metric


@dataclass(frozen=True)
class Comparison:
    """Improvement of the challenger over the champion (positive = better, in either direction)."""

    metric: str
    champion: float
    challenger: float
    improvement: float
    low: float
    high: float


def improvement(metric: Metric, y: Array, champion: Array, challenger: Array) -> float:
    sign = 1.0 if metric.greater_is_better else -1.0
    return sign * (metric.compute(y, challenger) - metric.compute(y, champion))


def paired_bootstrap(
    metric: Metric,
    y: Array,
    champion: Array,
    challenger: Array,
    *,
    samples: int,
    confidence: float,
    seed: int,
) -> Comparison:
    """Point improvement and its percentile confidence interval over resampled holdout rows."""
    from scipy import stats  # ~1 s to import; only needed once a champion exists

    rows = np.arange(len(y))

    def statistic(index: Array) -> float:
        picked = index.astype(int)
        return improvement(metric, y[picked], champion[picked], challenger[picked])

    result = stats.bootstrap(
        (rows,),
        statistic,
        vectorized=False,
        n_resamples=samples,
        confidence_level=confidence,
        method="percentile",
        rng=np.random.default_rng(seed),
    )
    interval = result.confidence_interval
    return Comparison(
        metric=metric.name,
        champion=metric.compute(y, champion),
        challenger=metric.compute(y, challenger),
        improvement=improvement(metric, y, champion, challenger),
        low=float(interval.low),
        high=float(interval.high),
    )
