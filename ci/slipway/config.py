"""`[tool.slipway]` of a project's pyproject.toml: read once, validated, with one-line errors.

Light on purpose: nox's own process imports this (no mlflow, pandas or sklearn here).
"""

from __future__ import annotations

import os
import re
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from slipway.errors import SlipwayError


class ConfigError(SlipwayError):
    """A `[tool.slipway]` setting is missing or wrong; the message names the key and the fix."""


@dataclass(frozen=True)
class ProjectConfig:
    """Settings of one project; defaults documented beside each field."""

    package: str  # import name of the model package under src/ (required)
    # Tags every run and model version the project makes; the gates and the server refuse versions
    # without it. Written once at copy time (a random UUID); "" only in projects made before 0.3.0.
    project_id: str = ""
    # From [tool.slipway.mlflow] (before 0.2.0 they sat in [tool.slipway]; still read there, with a notice):
    model_name: str = ""  # MLflow experiment and registered model name; empty: the package name
    tracking_uri: str = ""  # MLflow store; empty: sqlite:///<project>/mlflow.db. MLFLOW_TRACKING_URI wins
    coverage_floor: int = 80  # `tests` fails below this line+branch coverage, in percent
    typecheck_paths: tuple[str, ...] = ("src", "tests")  # what `typecheck` hands to mypy


def _table(pyproject: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(pyproject.read_text())
    except FileNotFoundError:
        raise ConfigError(f"{pyproject} not found: run nox from the project root") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{pyproject} is not valid TOML: {exc}") from None
    table = data.get("tool", {}).get("slipway")
    if not isinstance(table, dict):
        raise ConfigError(f"{pyproject} has no [tool.slipway] table: add one with `package = ...`")
    return table


def _paths(key: str, value: Any) -> tuple[str, ...]:
    if not (isinstance(value, list) and value and all(isinstance(v, str) for v in value)):
        raise ConfigError(f"[tool.slipway] {key} must be a non-empty list of paths, got {value!r}")
    return tuple(value)


def tracking_uri(config: ProjectConfig, root: Path) -> str:
    """MLFLOW_TRACKING_URI, else `[tool.slipway.mlflow] tracking_uri`, else SQLite in the project root."""
    return os.environ.get("MLFLOW_TRACKING_URI") or config.tracking_uri or f"sqlite:///{root / 'mlflow.db'}"


MLFLOW_KEYS = ("model_name", "tracking_uri")  # [tool.slipway.mlflow]
_warned: set[str] = set()


def _mlflow(table: dict[str, Any], pyproject: Path) -> dict[str, Any]:
    """`[tool.slipway.mlflow]`, plus (popped from `table`) keys a project still keeps in the old place.

    Before 0.2.0 `model_name` and `tracking_uri` sat in `[tool.slipway]`. They still work there, with a
    one-line notice, until the 0.2.0 migration (run by `nox -s template-update`) moves them.
    """
    raw = table.pop("mlflow", {})
    if not isinstance(raw, dict):
        raise ConfigError(f"[tool.slipway.mlflow] must be a table, got {raw!r}")
    unknown = sorted(set(raw) - set(MLFLOW_KEYS))
    if unknown:
        raise ConfigError(
            f"[tool.slipway.mlflow] unknown key {unknown[0]!r}: expected one of {', '.join(MLFLOW_KEYS)}"
        )
    merged = dict(raw)
    for key in MLFLOW_KEYS:
        if key not in table:
            continue
        if key in raw:
            raise ConfigError(
                f"{key} is set in both [tool.slipway] and [tool.slipway.mlflow] of {pyproject}: "
                "keep the one in [tool.slipway.mlflow] and delete the other"
            )
        merged[key] = table.pop(key)
        if key not in _warned:
            _warned.add(key)
            print(
                f"slipway: [tool.slipway] {key} is deprecated, move it to [tool.slipway.mlflow] "
                "(the 0.2.0 migration of `nox -s template-update` does it)",
                file=sys.stderr,
            )
    return merged


def load_project(pyproject: Path = Path("pyproject.toml")) -> ProjectConfig:
    """Parse and validate `[tool.slipway]`; unknown keys are refused so typos do not pass silently."""
    table = dict(_table(pyproject))
    for sub_table in ("gates", "monitor"):
        table.pop(sub_table, None)  # validated by their own readers
    mlflow = _mlflow(table, pyproject)
    known = set(ProjectConfig.__dataclass_fields__) - set(MLFLOW_KEYS)
    unknown = sorted(set(table) - known)
    if unknown:
        raise ConfigError(
            f"[tool.slipway] unknown key {unknown[0]!r}: expected one of {', '.join(sorted(known))}"
        )
    package = table.get("package")
    if not (isinstance(package, str) and package.isidentifier()):
        raise ConfigError(f"[tool.slipway] package must be the import name under src/, got {package!r}")
    floor = table.get("coverage_floor", ProjectConfig.coverage_floor)
    if isinstance(floor, bool) or not isinstance(floor, int) or not 0 <= floor <= 100:
        raise ConfigError(f"[tool.slipway] coverage_floor must be an integer 0-100, got {floor!r}")
    project_id = table.get("project_id", "")
    if not (isinstance(project_id, str) and re.fullmatch(r"[0-9A-Za-z._-]{0,64}", project_id)):
        raise ConfigError(
            f"[tool.slipway] project_id must be up to 64 letters, digits, '.', '_' or '-', got {project_id!r}"
        )
    names = {key: mlflow.get(key, "") for key in MLFLOW_KEYS}
    for key, value in names.items():
        if not isinstance(value, str):
            raise ConfigError(f"[tool.slipway.mlflow] {key} must be a string, got {value!r}")
    return ProjectConfig(
        package=package,
        project_id=project_id,
        model_name=names["model_name"] or package,
        tracking_uri=names["tracking_uri"],
        coverage_floor=floor,
        typecheck_paths=_paths(
            "typecheck_paths", table.get("typecheck_paths", list(ProjectConfig.typecheck_paths))
        ),
    )


@dataclass(frozen=True)
class Threshold:
    """An absolute bar for one holdout metric: `min` (higher is better) or `max` (lower is better)."""

    metric: str
    bound: float
    greater_is_better: bool

    def __str__(self) -> str:
        return f"{self.metric} {'>=' if self.greater_is_better else '<='} {self.bound:g}"


DEFAULT_PRIMARY = {"classification": "roc_auc", "regression": "rmse"}  # by the contract's task


@dataclass(frozen=True)
class GatesConfig:
    """`[tool.slipway.gates]`: what a challenger must show to become champion."""

    primary_metric: str | None = None  # the paired-bootstrap metric; None: DEFAULT_PRIMARY of the task
    thresholds: tuple[Threshold, ...] = ()  # absolute bars, e.g. {roc_auc = {min = 0.95}}
    min_improvement: float = 0.0  # the CI's lower bound of (candidate - baseline or champion) must reach this
    confidence: float = 0.95  # two-sided confidence level of that interval
    bootstrap_samples: int = 1000  # resamples of the holdout
    guarded: tuple[tuple[str, float], ...] = ()  # metric -> largest tolerated regression vs champion
    baseline: bool = True  # the candidate must also beat the naive baseline (class shares / the mean)
    holdout: str = "data/processed/test.csv"  # the table both models are scored on
    train: str = "data/processed/train.csv"  # the table the naive baseline learns from
    candidate: str = "models/train.json"  # the train stage's record of the candidate run
    seed: int = 0  # bootstrap seed: the same data gives the same verdict

    def primary(self, task: str) -> str:
        """The primary metric: the configured one, else the task's default."""
        if self.primary_metric is not None:
            return self.primary_metric
        if task not in DEFAULT_PRIMARY:
            raise ConfigError(
                f"no default primary_metric for task {task!r}: set [tool.slipway.gates] primary_metric"
            )
        return DEFAULT_PRIMARY[task]


GATE_KEYS = set(GatesConfig.__dataclass_fields__)


def _number(key: str, value: Any, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise ConfigError(
            f"[tool.slipway.gates] {key} must be a number in [{low:g}, {high:g}], got {value!r}"
        )
    return float(value)


def _path(raw: dict[str, Any], key: str) -> str:
    value = raw.get(key, getattr(GatesConfig, key))
    if not isinstance(value, str) or not value:
        raise ConfigError(f"[tool.slipway.gates] {key} must be a path relative to the project, got {value!r}")
    return value


def _thresholds(raw: Any) -> tuple[Threshold, ...]:
    if not isinstance(raw, dict):
        raise ConfigError(
            f"[tool.slipway.gates] thresholds must be a table like {{roc_auc = {{min = 0.9}}}}, got {raw!r}"
        )
    found = []
    for metric, bound in raw.items():
        if not (isinstance(bound, dict) and len(bound) == 1 and set(bound) <= {"min", "max"}):
            raise ConfigError(
                f"[tool.slipway.gates] thresholds.{metric} must be {{min = X}} or {{max = X}}, got {bound!r}"
            )
        ((side, value),) = bound.items()
        number = _number(f"thresholds.{metric}.{side}", value, -1e300, 1e300)
        found.append(Threshold(metric, number, greater_is_better=side == "min"))
    return tuple(found)


def load_gates(pyproject: Path = Path("pyproject.toml")) -> GatesConfig:
    """Parse and validate `[tool.slipway.gates]`, refusing unknown keys and out-of-range values.

    A missing table means the defaults: beat the naive baseline, then the champion, on the task's
    default primary metric.
    """
    raw = _table(pyproject).get("gates", {})
    if not isinstance(raw, dict):
        raise ConfigError(f"[tool.slipway.gates] must be a table, got {raw!r}")
    unknown = sorted(set(raw) - GATE_KEYS)
    if unknown:
        raise ConfigError(
            f"[tool.slipway.gates] unknown key {unknown[0]!r}: expected one of {', '.join(sorted(GATE_KEYS))}"
        )
    primary = raw.get("primary_metric")
    if primary is not None and (not isinstance(primary, str) or not primary):
        raise ConfigError(f"[tool.slipway.gates] primary_metric must be a metric name, got {primary!r}")
    baseline = raw.get("baseline", GatesConfig.baseline)
    if not isinstance(baseline, bool):
        raise ConfigError(f"[tool.slipway.gates] baseline must be true or false, got {baseline!r}")
    guarded = raw.get("guarded", {})
    if not isinstance(guarded, dict):
        raise ConfigError(
            f"[tool.slipway.gates] guarded must be a table like {{accuracy = 0.02}}, got {guarded!r}"
        )
    samples = raw.get("bootstrap_samples", GatesConfig.bootstrap_samples)
    if isinstance(samples, bool) or not isinstance(samples, int) or not 100 <= samples <= 100_000:
        raise ConfigError(
            f"[tool.slipway.gates] bootstrap_samples must be an integer 100-100000, got {samples!r}"
        )
    return GatesConfig(
        primary_metric=primary,
        thresholds=_thresholds(raw.get("thresholds", {})),
        min_improvement=_number("min_improvement", raw.get("min_improvement", 0.0), -1e300, 1e300),
        confidence=_number("confidence", raw.get("confidence", GatesConfig.confidence), 0.5, 0.999),
        bootstrap_samples=samples,
        guarded=tuple((m, _number(f"guarded.{m}", t, 0, 1e300)) for m, t in guarded.items()),
        baseline=baseline,
        holdout=_path(raw, "holdout"),
        train=_path(raw, "train"),
        candidate=_path(raw, "candidate"),
        seed=int(_number("seed", raw.get("seed", 0), 0, 2**32 - 1)),
    )


@dataclass(frozen=True)
class MonitorConfig:
    """`[tool.slipway.monitor]`: when a production batch has drifted from the training data."""

    reference: str = "data/processed/train.csv"  # the training table the batch is compared with
    report_dir: str = "reports/monitor"  # report.html and report.json go here
    bins: int = 10  # PSI bins, at the reference's quantiles
    max_psi: float = 0.2  # a feature drifts when its PSI reaches this ...
    p_value: float = 0.01  # ... and its KS (numeric) or chi-square (categorical) test rejects at this level
    max_missing_increase: float = 0.05  # a feature's share of missing values may rise by this much
    max_prediction_psi: float = 0.2  # PSI of the champion's scores on the batch vs on the reference
    categorical: tuple[str, ...] = ()  # numeric columns to treat as categories (text ones always are)


MONITOR_KEYS = set(MonitorConfig.__dataclass_fields__)


def load_monitor(pyproject: Path = Path("pyproject.toml")) -> MonitorConfig:
    """Parse and validate `[tool.slipway.monitor]`; a missing table means the defaults."""
    raw = _table(pyproject).get("monitor", {})
    if not isinstance(raw, dict):
        raise ConfigError(f"[tool.slipway.monitor] must be a table, got {raw!r}")
    unknown = sorted(set(raw) - MONITOR_KEYS)
    if unknown:
        raise ConfigError(
            f"[tool.slipway.monitor] unknown key {unknown[0]!r}: "
            f"expected one of {', '.join(sorted(MONITOR_KEYS))}"
        )

    def number(key: str, low: float, high: float) -> float:
        value = raw.get(key, getattr(MonitorConfig, key))
        if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
            raise ConfigError(
                f"[tool.slipway.monitor] {key} must be a number in [{low:g}, {high:g}], got {value!r}"
            )
        return float(value)

    bins = raw.get("bins", MonitorConfig.bins)
    if isinstance(bins, bool) or not isinstance(bins, int) or not 2 <= bins <= 100:
        raise ConfigError(f"[tool.slipway.monitor] bins must be an integer 2-100, got {bins!r}")
    for key in ("reference", "report_dir"):
        if not isinstance(raw.get(key, ""), str):
            raise ConfigError(f"[tool.slipway.monitor] {key} must be a path string, got {raw[key]!r}")
    categorical = raw.get("categorical", [])
    if not (isinstance(categorical, list) and all(isinstance(c, str) for c in categorical)):
        raise ConfigError(
            f"[tool.slipway.monitor] categorical must be a list of column names, got {categorical!r}"
        )
    return MonitorConfig(
        reference=raw.get("reference", MonitorConfig.reference),
        report_dir=raw.get("report_dir", MonitorConfig.report_dir),
        bins=bins,
        max_psi=number("max_psi", 0, 1e300),
        p_value=number("p_value", 0, 1),
        max_missing_increase=number("max_missing_increase", 0, 1),
        max_prediction_psi=number("max_prediction_psi", 0, 1e300),
        categorical=tuple(categorical),
    )
