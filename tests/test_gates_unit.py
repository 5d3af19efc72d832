"""The gate logic on constructed data: metric forms, bootstrap decisions, config errors."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
from slipway.config import ConfigError, load_gates
from slipway.gates.compare import paired_bootstrap
from slipway.gates.metrics import METRICS

RNG = np.random.default_rng(0)


def brute_force_auc(y: np.ndarray, s: np.ndarray) -> float:
    pos, neg = s[y == 1], s[y == 0]
    wins = sum((p > n) + 0.5 * (p == n) for p, n in itertools.product(pos, neg))
    return wins / (len(pos) * len(neg))


def test_rank_auc_matches_the_pairwise_definition_with_ties() -> None:
    y = RNG.integers(0, 2, 60).astype(float)
    s = np.round(RNG.random(60), 1)  # many ties
    assert METRICS["roc_auc"].compute(y, s) == pytest.approx(brute_force_auc(y, s))


def test_regression_metrics() -> None:
    y, s = np.array([1.0, 2.0, 3.0, 4.0]), np.array([1.0, 2.0, 3.0, 6.0])
    assert METRICS["rmse"].compute(y, s) == pytest.approx(1.0)
    assert METRICS["mae"].compute(y, s) == pytest.approx(0.5)
    assert METRICS["r2"].compute(y, s) == pytest.approx(1 - 4 / 5)
    assert not METRICS["rmse"].greater_is_better


def classification_case(n: int = 300) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    y = RNG.integers(0, 2, n).astype(float)
    strong = np.clip(y * 0.6 + RNG.normal(0.2, 0.2, n), 0, 1)
    weak = np.clip(y * 0.15 + RNG.normal(0.4, 0.25, n), 0, 1)
    return y, strong, weak


def bootstrap(metric: str, y: np.ndarray, champion: np.ndarray, challenger: np.ndarray):
    return paired_bootstrap(METRICS[metric], y, champion, challenger, samples=500, confidence=0.95, seed=1)


def test_clearly_better_challenger_has_a_positive_lower_bound() -> None:
    y, strong, weak = classification_case()
    result = bootstrap("roc_auc", y, champion=weak, challenger=strong)
    assert result.improvement > 0.1
    assert 0 < result.low < result.improvement < result.high


def test_clearly_worse_challenger_has_a_negative_upper_bound() -> None:
    y, strong, weak = classification_case()
    result = bootstrap("roc_auc", y, champion=strong, challenger=weak)
    assert result.high < 0


def test_identical_models_give_a_zero_interval() -> None:
    y, strong, _ = classification_case()
    result = bootstrap("roc_auc", y, champion=strong, challenger=strong.copy())
    assert (result.low, result.improvement, result.high) == (0.0, 0.0, 0.0)


def test_noise_level_difference_straddles_zero() -> None:
    y, strong, _ = classification_case()
    jittered = np.clip(strong + RNG.normal(0, 0.05, len(y)), 0, 1)
    result = bootstrap("roc_auc", y, champion=strong, challenger=jittered)
    assert result.low < 0 < result.high


def test_lower_is_better_metrics_count_a_drop_as_improvement() -> None:
    y = RNG.normal(100, 30, 200)
    close, far = y + RNG.normal(0, 5, 200), y + RNG.normal(0, 40, 200)
    result = bootstrap("rmse", y, champion=far, challenger=close)
    assert result.low > 0
    assert result.challenger < result.champion


def test_same_seed_same_interval() -> None:
    y, strong, weak = classification_case()
    assert bootstrap("roc_auc", y, weak, strong) == bootstrap("roc_auc", y, weak, strong)


def write(tmp_path: Path, gates: str) -> Path:
    path = tmp_path / "pyproject.toml"
    path.write_text(f'[tool.slipway]\npackage = "m"\n\n[tool.slipway.gates]\n{gates}\n')
    return path


def test_gates_config_parses_thresholds_with_direction(tmp_path: Path) -> None:
    config = load_gates(
        write(tmp_path, 'primary_metric = "rmse"\nthresholds = { rmse = { max = 70 }, r2 = { min = 0.3 } }\n')
    )
    assert [str(t) for t in config.thresholds] == ["rmse <= 70", "r2 >= 0.3"]
    assert config.confidence == 0.95
    assert config.bootstrap_samples == 1000


@pytest.mark.parametrize(
    ("gates", "message"),
    [
        ("confidence = 0.9", "[tool.slipway.gates] is missing or has no primary_metric"),
        ('primary_metric = "roc_auc"\nconfidence = 2', "confidence must be a number in [0.5, 0.999], got 2"),
        ('primary_metric = "roc_auc"\nconfidense = 0.9', "unknown key 'confidense'"),
        (
            'primary_metric = "roc_auc"\nthresholds = { roc_auc = 0.9 }',
            "thresholds.roc_auc must be {min = X} or {max = X}",
        ),
        (
            'primary_metric = "roc_auc"\nthresholds = { roc_auc = { min = "high" } }',
            "thresholds.roc_auc.min must be a number",
        ),
        (
            'primary_metric = "roc_auc"\nbootstrap_samples = 5',
            "bootstrap_samples must be an integer 100-100000, got 5",
        ),
        ('primary_metric = "roc_auc"\nguarded = { accuracy = -1 }', "guarded.accuracy must be a number"),
        ("primary_metric = 3", "primary_metric must be a metric name, got 3"),
    ],
)
def test_bad_gates_config_is_one_line(tmp_path: Path, gates: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_gates(write(tmp_path, gates))
    assert message in str(info.value)
    assert "\n" not in str(info.value)
