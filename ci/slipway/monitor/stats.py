"""Drift statistics on plain arrays: PSI on reference-quantile bins, KS and chi-square via scipy.

numpy and scipy only (no pandas), so they are tested on constructed data without a project.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

EPSILON = 1e-4  # floor for empty bins, so PSI stays finite


@dataclass(frozen=True)
class Drift:
    """One feature's (or the predictions') comparison of batch with reference."""

    psi: float
    p_value: float  # KS (numeric) or chi-square (categorical) test of "same distribution"
    test: str  # "ks" or "chi2"
    statistic: float


def bin_edges(reference: np.ndarray, bins: int = 10) -> np.ndarray:
    """Inner edges at the reference's quantiles (duplicates dropped): each bin holds ~1/bins of it."""
    quantiles = np.quantile(reference, np.linspace(0, 1, bins + 1)[1:-1])
    return np.unique(quantiles)


def shares(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Share of values per bin; bins are (-inf, e0], (e0, e1], ..., (e_last, inf)."""
    counts = np.bincount(np.searchsorted(edges, values, side="left"), minlength=len(edges) + 1)
    return np.asarray(counts / max(len(values), 1), dtype=float)


def psi_from_shares(expected: np.ndarray, actual: np.ndarray) -> float:
    """Population stability index: sum((a - e) * ln(a / e)), empty bins floored at EPSILON."""
    e = np.clip(expected, EPSILON, None)
    a = np.clip(actual, EPSILON, None)
    return float(np.sum((a - e) * np.log(a / e)))


def psi(reference: np.ndarray, batch: np.ndarray, bins: int = 10) -> float:
    """PSI of a numeric batch against the reference, on the reference's quantile bins."""
    edges = bin_edges(reference, bins)
    return psi_from_shares(shares(reference, edges), shares(batch, edges))


def numeric_drift(
    reference: Sequence[float] | np.ndarray, batch: Sequence[float] | np.ndarray, bins: int = 10
) -> Drift:
    """PSI and the two-sample Kolmogorov-Smirnov test (scipy) on the non-missing values."""
    from scipy.stats import ks_2samp

    ref = _finite(reference)
    new = _finite(batch)
    if len(ref) == 0 or len(new) == 0:
        return Drift(psi=float("nan"), p_value=float("nan"), test="ks", statistic=float("nan"))
    result: Any = ks_2samp(ref, new)
    return Drift(psi(ref, new, bins), float(result.pvalue), "ks", float(result.statistic))


def categorical_drift(reference: Sequence[Any], batch: Sequence[Any]) -> Drift:
    """PSI over categories and the chi-square test of the batch's counts against reference shares.

    Categories unseen in the reference get the EPSILON share, so a new category is drift, not a crash.
    """
    from scipy.stats import chisquare

    ref = [value for value in reference if value is not None and value == value]
    new = [value for value in batch if value is not None and value == value]
    if not ref or not new:
        return Drift(psi=float("nan"), p_value=float("nan"), test="chi2", statistic=float("nan"))
    categories = sorted({*map(str, ref), *map(str, new)})
    index = {category: i for i, category in enumerate(categories)}
    ref_counts = np.bincount([index[str(v)] for v in ref], minlength=len(categories)).astype(float)
    new_counts = np.bincount([index[str(v)] for v in new], minlength=len(categories)).astype(float)
    expected_share = np.clip(ref_counts / ref_counts.sum(), EPSILON, None)
    expected_share /= expected_share.sum()
    value = psi_from_shares(ref_counts / ref_counts.sum(), new_counts / new_counts.sum())
    if len(categories) < 2:
        return Drift(value, 1.0, "chi2", 0.0)
    result: Any = chisquare(new_counts, expected_share * new_counts.sum())
    return Drift(value, float(result.pvalue), "chi2", float(result.statistic))


def _finite(values: Sequence[float] | np.ndarray) -> np.ndarray:
    array = np.asarray(values, dtype=float)
    finite: np.ndarray = array[np.isfinite(array)]
    return finite
