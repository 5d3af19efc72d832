"""`[tool.slipway]` of a project's pyproject.toml: read once, validated, with one-line errors.

Light on purpose: nox's own process imports this (no mlflow, pandas or sklearn here).
"""

from __future__ import annotations

import os
import re
import sys
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Any

from slipway.errors import SlipwayError
from slipway.gates.names import BY_TASK, KNOWN
from slipway.report import paths


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


def _known_keys(raw: dict[str, Any], known: Iterable[str], table: str) -> None:
    """Refuse the first unknown key of a table, so a typo does not pass silently as a default."""
    unknown = sorted(set(raw) - set(known))
    if unknown:
        raise ConfigError(f"[{table}] unknown key {unknown[0]!r}: expected one of {', '.join(sorted(known))}")


def inside(table: str, key: str, value: Any) -> str:
    """A path setting, refused unless it is a non-empty path relative to the project that stays inside it."""
    if not isinstance(value, str) or not value:
        raise ConfigError(f"[{table}] {key} must be a path relative to the project, got {value!r}")
    path = PurePath(value)
    if path.anchor or ".." in path.parts or value.startswith("~"):  # absolute, or climbing out
        raise ConfigError(
            f"[{table}] {key} = {value!r} points outside the project: use a path relative to the project"
            " root, without '..'"
        )
    return value


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
    _known_keys(raw, MLFLOW_KEYS, "tool.slipway.mlflow")
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
    for sub_table in ("gates", "monitor", "serve"):
        table.pop(sub_table, None)  # validated by their own readers
    mlflow = _mlflow(table, pyproject)
    _known_keys(table, set(ProjectConfig.__dataclass_fields__) - set(MLFLOW_KEYS), "tool.slipway")
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


def number(table: str, key: str, value: Any, low: float, high: float) -> float:
    """A number setting in [low, high]; booleans (ints to Python) are refused."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise ConfigError(f"[{table}] {key} must be a number in [{low:g}, {high:g}], got {value!r}")
    return float(value)


def integer(table: str, key: str, value: Any, low: int, high: int) -> int:
    """A whole-number setting in [low, high]: 1.5 or true is refused, not truncated."""
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ConfigError(f"[{table}] {key} must be an integer {low}-{high}, got {value!r}")
    return value


GATES = "tool.slipway.gates"


def _path(raw: dict[str, Any], key: str) -> str:
    return inside(GATES, key, raw.get(key, getattr(GatesConfig, key)))


def _metric(key: str, name: Any) -> str:
    """A metric name the gates know for some task; which task is contract.yaml's, checked at evaluate."""
    if not isinstance(name, str) or name not in KNOWN:
        known = "; ".join(f"{task}: {', '.join(names)}" for task, names in BY_TASK.items())
        raise ConfigError(
            f"[tool.slipway.gates] {key} must be a metric name, got {name!r}; the gates know {known}"
        )
    return name


def _thresholds(raw: Any) -> tuple[Threshold, ...]:
    if not isinstance(raw, dict):
        raise ConfigError(
            f"[tool.slipway.gates] thresholds must be a table like {{roc_auc = {{min = 0.9}}}}, got {raw!r}"
        )
    found = []
    for metric, bound in raw.items():
        _metric(f"thresholds.{metric}", metric)
        if not (isinstance(bound, dict) and len(bound) == 1 and set(bound) <= {"min", "max"}):
            raise ConfigError(
                f"[tool.slipway.gates] thresholds.{metric} must be {{min = X}} or {{max = X}}, got {bound!r}"
            )
        ((side, value),) = bound.items()
        limit = number(GATES, f"thresholds.{metric}.{side}", value, -1e300, 1e300)
        found.append(Threshold(metric, limit, greater_is_better=side == "min"))
    return tuple(found)


def load_gates(pyproject: Path = Path("pyproject.toml")) -> GatesConfig:
    """Parse and validate `[tool.slipway.gates]`, refusing unknown keys and out-of-range values.

    A missing table means the defaults: beat the naive baseline, then the champion, on the task's
    default primary metric.
    """
    raw = _sub_table(pyproject, "gates", GATE_KEYS)
    primary = raw.get("primary_metric")
    if primary is not None:
        _metric("primary_metric", primary)
    baseline = raw.get("baseline", GatesConfig.baseline)
    if not isinstance(baseline, bool):
        raise ConfigError(f"[tool.slipway.gates] baseline must be true or false, got {baseline!r}")
    guarded = raw.get("guarded", {})
    if not isinstance(guarded, dict):
        raise ConfigError(
            f"[tool.slipway.gates] guarded must be a table like {{accuracy = 0.02}}, got {guarded!r}"
        )
    return GatesConfig(
        primary_metric=primary,
        thresholds=_thresholds(raw.get("thresholds", {})),
        min_improvement=number(GATES, "min_improvement", raw.get("min_improvement", 0.0), -1e300, 1e300),
        confidence=number(GATES, "confidence", raw.get("confidence", GatesConfig.confidence), 0.5, 0.999),
        bootstrap_samples=integer(
            GATES,
            "bootstrap_samples",
            raw.get("bootstrap_samples", GatesConfig.bootstrap_samples),
            100,
            100_000,
        ),
        guarded=tuple(
            (_metric(f"guarded.{m}", m), number(GATES, f"guarded.{m}", t, 0, 1e300))
            for m, t in guarded.items()
        ),
        baseline=baseline,
        holdout=_path(raw, "holdout"),
        train=_path(raw, "train"),
        candidate=_path(raw, "candidate"),
        seed=integer(GATES, "seed", raw.get("seed", GatesConfig.seed), 0, 2**32 - 1),
    )


@dataclass(frozen=True)
class MonitorConfig:
    """`[tool.slipway.monitor]`: when a production batch has drifted from the training data."""

    reference: str = "data/processed/train.csv"  # the training table the batch is compared with
    report_dir: str = paths.MONITOR_DIR  # report.html and report.json go here
    bins: int = 10  # PSI bins, at the reference's quantiles
    max_psi: float = 0.2  # a feature drifts when its PSI reaches this ...
    p_value: float = 0.01  # ... and its KS (numeric) or chi-square (categorical) test rejects at this level
    max_missing_increase: float = 0.05  # a feature's share of missing values may rise by this much
    max_prediction_psi: float = 0.2  # PSI of the champion's scores on the batch vs on the reference
    categorical: tuple[str, ...] = ()  # numeric columns to treat as categories (text ones always are)
    min_rows: int = 50  # a smaller batch is refused: its drift tests would be noise
    max_rows: int = 1_000_000  # a larger batch is refused before it is read into memory


MONITOR_KEYS = set(MonitorConfig.__dataclass_fields__)
MONITOR = "tool.slipway.monitor"


def _sub_table(pyproject: Path, name: str, keys: set[str]) -> dict[str, Any]:
    """`[tool.slipway.<name>]` (empty when absent), refusing a non-table and unknown keys."""
    raw = _table(pyproject).get(name, {})
    if not isinstance(raw, dict):
        raise ConfigError(f"[tool.slipway.{name}] must be a table, got {raw!r}")
    _known_keys(raw, keys, f"tool.slipway.{name}")
    return raw


def load_monitor(pyproject: Path = Path("pyproject.toml")) -> MonitorConfig:
    """Parse and validate `[tool.slipway.monitor]`; a missing table means the defaults."""
    raw = _sub_table(pyproject, "monitor", MONITOR_KEYS)

    def setting(check: Any, key: str, low: float, high: float) -> Any:
        return check(MONITOR, key, raw.get(key, getattr(MonitorConfig, key)), low, high)

    min_rows, max_rows = setting(integer, "min_rows", 1, 10**9), setting(integer, "max_rows", 1, 10**9)
    if min_rows > max_rows:
        raise ConfigError(
            f"[tool.slipway.monitor] min_rows ({min_rows}) is above max_rows ({max_rows}): lower min_rows"
        )
    categorical = raw.get("categorical", [])
    if not (isinstance(categorical, list) and all(isinstance(c, str) for c in categorical)):
        raise ConfigError(
            f"[tool.slipway.monitor] categorical must be a list of column names, got {categorical!r}"
        )
    return MonitorConfig(
        reference=inside(MONITOR, "reference", raw.get("reference", MonitorConfig.reference)),
        report_dir=inside(MONITOR, "report_dir", raw.get("report_dir", MonitorConfig.report_dir)),
        bins=setting(integer, "bins", 2, 100),
        max_psi=setting(number, "max_psi", 0, 1e300),
        p_value=setting(number, "p_value", 0, 1),
        max_missing_increase=setting(number, "max_missing_increase", 0, 1),
        max_prediction_psi=setting(number, "max_prediction_psi", 0, 1e300),
        categorical=tuple(categorical),
        min_rows=min_rows,
        max_rows=max_rows,
    )


@dataclass(frozen=True)
class ServeConfig:
    """`[tool.slipway.serve]`: the server's limits, so hostile input or load cannot exhaust one pod.

    The worst case in memory is about max_in_flight x (max_body_bytes + the parsed batch, ~32 bytes per
    value the schema keeps). Measured with the defaults and a 30-feature forest (tests/
    test_serve_hardening.py: 60 unfinished 2 MB bodies, a flood past the in-flight limit, 16 batches
    of 9,000 rows): 325 MB at start, 412 MB at the peak, against the manifests' 1 GiB limit.
    """

    max_body_bytes: int = 2 * 1024 * 1024  # a larger request body is refused with 413 before it is read
    max_rows: int = 10_000  # rows per request (413 beyond)
    max_columns: int = 1_000  # column names per request (413 beyond; never below the model's own count)
    max_in_flight: int = 16  # /predict requests read, checked or scored at once; beyond: 503 + Retry-After
    body_timeout_seconds: float = 10.0  # a body not received in full by then: 408
    header_timeout_seconds: float = 10.0  # a connection without a complete request head by then is closed
    max_header_bytes: int = 16 * 1024  # request line + headers (uvicorn's h11_max_incomplete_event_size)
    keep_alive_seconds: int = 5  # an idle keep-alive connection is closed after this
    max_connections: int = 1_000  # open connections (uvicorn's limit_concurrency); requests beyond get 503
    follow_champion_seconds: float = 30.0  # poll the champion alias and swap to a new version; 0: never


SERVE_KEYS = set(ServeConfig.__dataclass_fields__)
SERVE = "tool.slipway.serve"
_SERVE_RANGES: dict[str, tuple[float, float]] = {  # inclusive bounds of each key
    "max_body_bytes": (1024, 1024**3),
    "max_rows": (1, 10_000_000),
    "max_columns": (1, 1_000_000),
    "max_in_flight": (1, 100_000),
    "body_timeout_seconds": (0.1, 3600),
    "header_timeout_seconds": (0.1, 3600),
    "max_header_bytes": (1024, 1024**2),
    "keep_alive_seconds": (1, 3600),
    "max_connections": (1, 1_000_000),
    "follow_champion_seconds": (0, 86_400),
}


def load_serve(pyproject: Path = Path("pyproject.toml")) -> ServeConfig:
    """Parse and validate `[tool.slipway.serve]`; a missing table means the defaults."""
    raw = _sub_table(pyproject, "serve", SERVE_KEYS)
    values: dict[str, Any] = {}
    for key, (low, high) in _SERVE_RANGES.items():
        default = getattr(ServeConfig, key)
        value = raw.get(key, default)
        if isinstance(default, int):
            values[key] = integer(SERVE, key, value, int(low), int(high))
        else:
            values[key] = number(SERVE, key, value, low, high)
    return ServeConfig(**values)
