"""Robustness of the gates' edges: settings refused at load, malformed promotion records skipped,
hostile monitor batches bounded and refused, and an unreachable or driverless tracking store
reported in one line.

Cheap on purpose: tmp pyproject files, generated frames, and MLflow (not in slipway's own test
environment) only in a few subprocesses against a sqlite store in a tmp dir.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from slipway.config import ConfigError, MonitorConfig, load_gates, load_monitor, load_project
from slipway.contract.infer import infer_contract
from slipway.contract.schema import Contract, ContractError, dump_contract
from slipway.monitor.batch import read_batch
from slipway.monitor.check import MonitorResult, compare
from slipway.monitor.command import score_tables
from slipway.monitor.tables import Tables, typed_tables
from slipway.redact import redact
from slipway.serve.command import free_port
from slipway.stores import store_failure

from tests.tables import mixed_table, write

# ---- [tool.slipway] refused at load ----------------------------------------------------------------


def pyproject(tmp_path: Path, section: str, body: str) -> Path:
    path = tmp_path / "pyproject.toml"
    table = f"\n[tool.slipway.{section}]\n{body}\n" if section else body
    path.write_text(f'[tool.slipway]\npackage = "m"\n{table}')
    return path


LOADERS = {"": load_project, "mlflow": load_project, "gates": load_gates, "monitor": load_monitor}


@pytest.mark.parametrize(
    ("section", "body", "message"),
    [
        ("gates", "seed = 1.5", "seed must be an integer 0-4294967295, got 1.5"),
        ("gates", "seed = true", "seed must be an integer 0-4294967295, got True"),
        ("gates", 'primary_metric = "roc_acu"', "primary_metric must be a metric name, got 'roc_acu'"),
        ("gates", "thresholds = { precison = { min = 0.9 } }", "thresholds.precison must be a metric name"),
        ("gates", "guarded = { accuracyy = 0.1 }", "guarded.accuracyy must be a metric name"),
        ("gates", 'holdout = "/etc/passwd.csv"', "holdout = '/etc/passwd.csv' points outside the project"),
        ("gates", 'holdout = "../x/test.csv"', "holdout = '../x/test.csv' points outside the project"),
        ("gates", 'train = "data/../../t.csv"', "train = 'data/../../t.csv' points outside the project"),
        ("gates", 'candidate = "~/train.json"', "candidate = '~/train.json' points outside the project"),
        ("monitor", 'reference = "/data/t.csv"', "reference = '/data/t.csv' points outside the project"),
        ("monitor", 'report_dir = "../reports"', "report_dir = '../reports' points outside the project"),
        ("monitor", "reference = 3", "reference must be a path relative to the project, got 3"),
        ("monitor", "min_rows = 10.5", "min_rows must be an integer 1-1000000000, got 10.5"),
        ("monitor", "max_rows = 0", "max_rows must be an integer 1-1000000000, got 0"),
        ("monitor", "min_rows = 100\nmax_rows = 10", "min_rows (100) is above max_rows (10)"),
        ("monitor", "bins = 4.0", "bins must be an integer 2-100, got 4.0"),
        # one unknown-key check for every table
        ("", "packages = 1\n", "[tool.slipway] unknown key 'packages': expected one of coverage_floor"),
        ("mlflow", "uri = 'x'", "[tool.slipway.mlflow] unknown key 'uri': expected one of model_name"),
        ("gates", "sead = 1", "[tool.slipway.gates] unknown key 'sead': expected one of baseline"),
        ("monitor", "min_row = 1", "[tool.slipway.monitor] unknown key 'min_row': expected one of bins"),
    ],
)
def test_settings_are_refused_at_load_in_one_line(
    tmp_path: Path, section: str, body: str, message: str
) -> None:
    with pytest.raises(ConfigError) as info:
        LOADERS[section](pyproject(tmp_path, section, body))
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_an_unknown_metric_is_refused_naming_the_known_ones_per_task(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_gates(pyproject(tmp_path, "gates", 'primary_metric = "auc"'))
    assert "classification: roc_auc, accuracy, f1, log_loss; regression: rmse, mae, r2" in str(info.value)
    settings = 'primary_metric = "r2"\nguarded = { mae = 1 }\nseed = 7'
    config = load_gates(pyproject(tmp_path, "gates", settings))
    assert (config.primary_metric, config.guarded, config.seed) == ("r2", (("mae", 1.0),), 7)


def test_config_stays_light_for_nox() -> None:
    """nox's own process imports the config: the metric names must come without numpy or pandas."""
    code = "import sys, slipway.config; print(sorted(m for m in ('numpy', 'pandas') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# ---- monitor: hostile batches --------------------------------------------------------------------


def monitored(batch: pd.DataFrame) -> tuple[Tables, Contract]:
    reference = mixed_table("3-class", rows=400, seed=0)
    contract = infer_contract(reference, "target")
    return typed_tables(reference, batch, contract), contract


@pytest.mark.parametrize("value", [np.inf, -np.inf])
def test_a_column_of_infinities_counts_as_missing_and_fails_the_batch(value: float) -> None:
    batch = mixed_table("3-class", rows=200, seed=1).assign(income=value)
    tables, contract = monitored(batch)
    result = compare(tables, contract, MonitorConfig())
    income = next(f for f in result.features if f.name == "income")
    assert income.missing_batch == 1.0
    assert result.missing_drifted == ["income"]
    assert "more missing values in: income" in result.problems()
    assert not np.isinf(tables.batch["income"]).any()  # the model sees gaps, not infinities
    assert compare(*monitored(mixed_table("3-class", rows=200, seed=1)), MonitorConfig()).problems() == []


class Champion:
    """A project's api whose model fails (or answers NaN) on rows with a given income."""

    TRUSTED_TYPES: tuple[str, ...] = ()

    def __init__(self, failure: Exception | None) -> None:
        self.failure = failure

    def score(self, y_true: object, scores: np.ndarray, contract: Contract) -> dict[str, float]:
        raise AssertionError("the monitor gate scores no metrics")

    def predict_scores(self, model: object, features: pd.DataFrame, contract: Contract) -> np.ndarray:
        scores = np.full((len(features), len(contract.labels)), 1 / len(contract.labels))
        if features["income"].gt(1e6).any():
            if self.failure is not None:
                raise self.failure
            scores[0] = np.nan
        return scores


@pytest.mark.parametrize(
    ("failure", "problem"),
    [
        (
            ValueError("Input X contains NaN.\nmore"),
            "the champion could not score the batch: Input X contains NaN.",
        ),
        (KeyError("income"), "the champion could not score the batch: 'income'"),
        (None, "the champion gave 3 non-finite score(s) on the batch"),
    ],
)
def test_a_champion_that_cannot_score_the_batch_fails_the_gate(
    failure: Exception | None, problem: str
) -> None:
    tables, contract = monitored(mixed_table("3-class", rows=200, seed=2).assign(income=5e6))
    result = MonitorResult(reference_rows=len(tables.reference), batch_rows=len(tables.batch))
    api = Champion(failure)
    assert score_tables(api, None, contract, tables, result, "m.api") is None
    assert result.problems() == [problem]
    assert result.to_json()["passed"] is False
    calm, _ = monitored(mixed_table("3-class", rows=200, seed=2))
    scored = score_tables(api, None, contract, calm, MonitorResult(0, 0), "m.api")
    assert scored is not None


def test_a_ragged_csv_row_is_refused_naming_its_line(tmp_path: Path) -> None:
    path = write(mixed_table("3-class", rows=120, seed=3), tmp_path / "batch.csv")
    lines = path.read_text().splitlines()
    lines[5] = lines[5].rsplit(",", 2)[0]  # two fields short: pandas would read them as missing
    lines[9] += ",surplus"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(ContractError) as info:
        read_batch(path, MonitorConfig())
    assert str(info.value) == f"{path} line 6: 5 fields where the header has 7: fix or drop that row"


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_batches_outside_min_rows_and_max_rows_are_refused_before_the_drift_tests(
    tmp_path: Path, suffix: str
) -> None:
    small = write(mixed_table("2-class", rows=49, seed=4), tmp_path / f"small{suffix}")
    with pytest.raises(
        ContractError, match=r"has 49 rows, fewer than \[tool.slipway.monitor\] min_rows = 50"
    ):
        read_batch(small, MonitorConfig())
    assert len(read_batch(small, MonitorConfig(min_rows=10))) == 49
    large = write(mixed_table("2-class", rows=101, seed=4), tmp_path / f"large{suffix}")
    with pytest.raises(ContractError, match=r"has more than 100 rows \(\[tool.slipway.monitor\] max_rows\)"):
        read_batch(large, MonitorConfig(max_rows=100))
    assert len(read_batch(large, MonitorConfig(max_rows=101))) == 101


def test_the_row_count_stops_at_max_rows(tmp_path: Path) -> None:
    """Past max_rows nothing more is read: a ragged row after the limit is never reached."""
    path = write(mixed_table("2-class", rows=200, seed=5), tmp_path / "batch.csv")
    path.write_text(path.read_text() + "only,three,fields\n")
    with pytest.raises(ContractError, match="has more than 100 rows"):
        read_batch(path, MonitorConfig(max_rows=100))
    with pytest.raises(ContractError, match="line 202: 3 fields"):
        read_batch(path, MonitorConfig())


# ---- an unusable tracking store is one line --------------------------------------------------------


class OperationalError(Exception):
    """Named as SQLAlchemy's: the guard goes by names, so it needs neither SQLAlchemy nor MLflow."""


class MlflowException(Exception):
    """Named as MLflow's."""


def chained(outer: Exception, inner: BaseException) -> Exception:
    try:
        try:
            raise inner
        except BaseException:
            raise outer  # noqa: B904 - implicit chaining, as MLflow re-raises
    except Exception as exc:
        return exc


@pytest.mark.parametrize(
    ("exc", "start"),
    [
        (chained(RuntimeError("x"), ModuleNotFoundError("no psycopg2", name="psycopg2")), "tracking store"),
        (ModuleNotFoundError("no MySQLdb", name="MySQLdb"), "tracking store"),
        (chained(ValueError("x"), ConnectionRefusedError(111, "refused")), "cannot reach tracking store"),
        (TimeoutError("timed out"), "cannot reach tracking store"),
        (OperationalError("connection failed: connection refused, port 5432"), "cannot reach tracking store"),
        (OperationalError("database is locked"), None),  # sqlite's: the store is there
        (
            MlflowException("API request to http://h/api failed with exception boom"),
            "cannot reach tracking store",
        ),
        (MlflowException("Logged model with ID 'm-0' not found."), None),
        (ModuleNotFoundError("no sklearn", name="sklearn"), None),  # not a driver: a real bug, a traceback
        (ValueError("API request to http://h/x failed with exception boom"), None),  # not MLflow's
    ],
)
def test_only_store_failures_become_one_line(
    exc: Exception, start: str | None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "mysql://u:hunter2@db/x")
    line = store_failure(exc)
    assert (line and line.split(" mysql")[0]) == start
    assert "hunter2" not in (line or "")


@pytest.mark.parametrize(
    ("uri", "shown"),
    [
        ("postgresql://admin:secret@host:5432/db", "postgresql://admin:***@host:5432/db"),
        ("postgresql+psycopg2://a:p%40ss@h/db", "postgresql+psycopg2://a:***@h/db"),
        ("https://user:token@mlflow.example.com", "https://user:***@mlflow.example.com"),
        ("http://127.0.0.1:5000", "http://127.0.0.1:5000"),
        ("sqlite:////tmp/mlflow.db", "sqlite:////tmp/mlflow.db"),
        (
            "at store https://u:t0ken@h/x: API request to https://u:t0ken@h/api failed",
            "at store https://u:***@h/x: API request to https://u:***@h/api failed",
        ),
    ],
)
def test_store_uris_are_printed_with_the_password_masked(uri: str, shown: str) -> None:
    assert redact(uri) == shown


# ---- MLflow in one subprocess: malformed records, unusable stores -------------------------------
# MLflow is the projects' dependency, not slipway's: the commands below run in slipway's env plus
# MLflow, all in one process (MLflow is imported once), each with its output captured on its own.

ROOT = Path(__file__).resolve().parents[1]
MLFLOW_PYTHON = ("uv", "run", "--quiet", "--project", str(ROOT), "--with", "mlflow>=3.17,<4", "python")
MLFLOW_TIMEOUT = 180  # seconds: a cold overlay env resolves and links MLflow once


def mlflow_python(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`python ARGS` with MLflow importable, in `cwd`, against only the stores it is given."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    env |= {"MLFLOW_DISABLE_TELEMETRY": "true", "GIT_PYTHON_REFRESH": "quiet"}
    return subprocess.run(
        [*MLFLOW_PYTHON, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=MLFLOW_TIMEOUT
    )


def tiny_project(path: Path, tracking_uri: str, package: str = "m") -> Path:
    """A pyproject naming a package and its tracking store: all `history` and `rollback` read."""
    path.mkdir(parents=True, exist_ok=True)
    (path / "pyproject.toml").write_text(
        f'[tool.slipway]\npackage = "{package}"\nproject_id = "tiny"\n'
        f'[tool.slipway.mlflow]\ntracking_uri = "{tracking_uri}"\n'
    )
    return path


API = """
TRUSTED_TYPES = []

def predict_scores(model, features, contract):
    return model.predict_proba(features)

def score(y_true, scores, contract):
    return {}
"""


DRIVER = """
import contextlib, io, json, os, sys, traceback
from slipway.cli import main

stores, src, out = sys.argv[1:]
sys.path.insert(0, src)

def run(cwd, argv, uri=None):
    os.chdir(cwd)
    os.environ.pop("MLFLOW_TRACKING_URI", None)
    os.environ.update({"MLFLOW_TRACKING_URI": uri} if uri else {})
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        try:
            code = main(argv)
        except BaseException:
            code = None
            traceback.print_exc()
    return {"code": code, "stdout": stdout.getvalue(), "stderr": stderr.getvalue()}

results = {}
for uri in json.loads(stores):
    results[uri] = run(os.path.dirname(src), ["evaluate"], uri)
with open(out, "w") as handle:
    json.dump(results, handle)
"""
CLOSED = f"http://127.0.0.1:{free_port()}"  # nothing listens there
PASSWORD_URI = "postgresql://admin:hunter2@127.0.0.1:5/mlflow"  # and no driver installed


@pytest.fixture(scope="module")
def mlflow_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """`slipway evaluate` against unusable stores, in one process."""
    project = tiny_project(tmp_path_factory.mktemp("stores"), CLOSED, package="tinypkg")
    (project / "src" / "tinypkg").mkdir(parents=True)
    (project / "src" / "tinypkg" / "__init__.py").write_text("")
    (project / "src" / "tinypkg" / "api.py").write_text(API)
    table = mixed_table("2-class", rows=60, seed=0)
    write(table, project / "data" / "processed" / "test.csv")
    write(table, project / "data" / "processed" / "train.csv")
    (project / "contract.yaml").write_text(dump_contract(infer_contract(table, "target")))
    (project / "models").mkdir()
    candidate = {"run_id": "0" * 32, "model_uri": "models:/m-" + "0" * 32}
    (project / "models" / "train.json").write_text(json.dumps(candidate))
    out = project / "results.json"
    args = ("-c", DRIVER, json.dumps([CLOSED, PASSWORD_URI]), str(project / "src"), str(out))
    result = mlflow_python(project, *args)
    assert result.returncode == 0, result.stderr[-3000:]
    return dict(json.loads(out.read_text()))


def test_evaluate_against_an_unreachable_server_or_a_missing_driver_is_one_line(
    mlflow_runs: dict[str, Any],
) -> None:
    """`slipway evaluate` as the session runs it (MLFLOW_TRACKING_URI set), the candidate on the store."""
    closed, password = mlflow_runs[CLOSED], mlflow_runs[PASSWORD_URI]
    assert closed["stderr"].splitlines() == [
        f"slipway evaluate: cannot reach tracking store {CLOSED}: start the server, or set"
        " MLFLOW_TRACKING_URI (or [tool.slipway.mlflow] tracking_uri) to one that is up",
    ]
    assert password["stderr"].splitlines() == [
        "slipway evaluate: tracking store postgresql://admin:***@127.0.0.1:5/mlflow needs the database"
        " driver 'psycopg', which the project lacks: add it (`uv add 'psycopg[binary]'`) and run again",
    ]
    assert closed["code"] == password["code"] == 1
    assert "hunter2" not in password["stdout"] + password["stderr"]


@pytest.mark.parametrize(
    "text", ["{run", "[]", '{"run_id": 1, "model_uri": "models:/m-1"}', '{"run_id": "r"}']
)
def test_a_malformed_training_record_is_one_line(tmp_path: Path, text: str) -> None:
    from slipway.errors import SlipwayError
    from slipway.project import Project

    tiny_project(tmp_path, "sqlite:///mlflow.db")
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "train.json").write_text(text)
    with pytest.raises(SlipwayError, match=r"^models/train.json is not the train stage's record"):
        Project.load(tmp_path).candidate()
