"""Candidate vs a reference model on the same holdout rows: a paired bootstrap of the improvement.

The reference is the champion or the naive baseline. Resampling rows (not models) keeps the
pairing: each resample scores both on the same rows (rows of `y` and of both score arrays, 1-D
predictions or 2-D probability matrices), so the interval reflects how much the holdout's luck
could explain the difference. The resamples are drawn once per gate run and shared by every metric
(the gate report's intervals), exactly as scipy's percentile bootstrap draws them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from slipway.gates.metrics import Array, Metric


@dataclass(frozen=True)
class Comparison:
    """Improvement of the candidate over the reference (positive = better, in either direction)."""

    metric: str
    reference: float  # the metric of the champion or of the naive baseline
    candidate: float
    improvement: float
    low: float  # the confidence interval of the improvement
    high: float


@dataclass(frozen=True)
class Bootstrapped:
    """A comparison and its improvement on each resample (for plots; registry tags take `comparison`)."""

    comparison: Comparison
    distribution: Array


@dataclass(frozen=True)
class Resamples:
    """Row indices of each bootstrap resample, (samples, rows), and the interval's confidence level."""

    index: Array
    confidence: float

    @classmethod
    def draw(cls, rows: int, *, samples: int, confidence: float, seed: int) -> Resamples:
        """The draw `scipy.stats.bootstrap(..., rng=default_rng(seed))` makes for `rows` paired rows."""
        return cls(np.random.default_rng(seed).integers(0, rows, (samples, rows)), confidence)

    def values(self, metric: Metric, y: Array, scores: Array) -> Array:
        """The metric of one model's scores on each resample."""
        return np.array([metric.compute(y[rows], scores[rows]) for rows in self.index])

    def interval(self, distribution: Array) -> tuple[float, float]:
        """The percentile interval of a bootstrap distribution, as scipy's bootstrap computes it."""
        from scipy import stats  # ~1 s to import; only needed once there is something to compare with

        alpha = (1 - self.confidence) / 2
        low, high = stats.quantile(distribution, np.asarray([alpha, 1 - alpha]))
        return float(low), float(high)


def improvement(metric: Metric, y: Array, reference: Array, candidate: Array) -> float:
    sign = 1.0 if metric.greater_is_better else -1.0
    return sign * (metric.compute(y, candidate) - metric.compute(y, reference))


def compare(
    metric: Metric,
    y: Array,
    reference: Array,
    candidate: Array,
    resamples: Resamples,
    *,
    reference_values: Array | None = None,
    candidate_values: Array | None = None,
) -> Bootstrapped:
    """Point improvement, its distribution over the resamples and its percentile interval.

    `*_values` are `resamples.values(...)` already computed for a model (the report reuses them).
    """
    sign = 1.0 if metric.greater_is_better else -1.0
    if reference_values is None:
        reference_values = resamples.values(metric, y, reference)
    if candidate_values is None:
        candidate_values = resamples.values(metric, y, candidate)
    distribution = sign * (candidate_values - reference_values)
    low, high = resamples.interval(distribution)
    comparison = Comparison(
        metric=metric.name,
        reference=metric.compute(y, reference),
        candidate=metric.compute(y, candidate),
        improvement=improvement(metric, y, reference, candidate),
        low=low,
        high=high,
    )
    return Bootstrapped(comparison, distribution)


def paired_bootstrap(
    metric: Metric,
    y: Array,
    reference: Array,
    candidate: Array,
    *,
    samples: int,
    confidence: float,
    seed: int,
) -> Comparison:
    """Point improvement and its percentile confidence interval over resampled holdout rows."""
    resamples = Resamples.draw(len(y), samples=samples, confidence=confidence, seed=seed)
    return compare(metric, y, reference, candidate, resamples).comparison
