"""Projects made on the user's own tables, end to end: `copier copy --data data_path=... target=...`.

Tables the tests make (mixed types, missing values, an id and a constant column, string labels,
a regression target in Parquet); each class renders one project (xdist runs classes side by side)
and runs its real gates. A bad table stops the copy in one line. scikit-learn's sets: iris through
`data-adopt` (tests/test_adopt.py), wine's integer classes and diabetes in tests/test_contract.py.
"""

from __future__ import annotations

import json
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from tests.conftest import copier_cli, nox, output, render_project
from tests.gate_examples import verdict_of
from tests.serving import call, serving, split
from tests.tables import mixed_table, write

pytestmark = pytest.mark.e2e

DEFAULT_GATES = ("train", "typecheck", "lint", "tests", "evaluate")


def summary(out: str) -> dict[str, str]:
    """nox's closing list, `* SESSION: STATUS, took ...` -> {session: status}."""
    lines = out[out.rindex("nox > Ran ") :].splitlines()[1:]
    return dict(line.removeprefix("nox > * ").split(",")[0].split(": ") for line in lines if "* " in line)


@pytest.fixture(scope="class")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("own-data")


def make_project(template: Path, base: Path, table: Path, target: str, **answers: Any) -> Path:
    return render_project(template, base / "project", data_path=str(table), target=target, **answers)


class TestThreeClassesFromCsv:
    """String labels, numbers, categories, booleans, missing values, an id and a constant column."""

    @pytest.fixture(scope="class")
    @classmethod
    def project(cls, template: Path, workdir: Path) -> Path:
        table = write(mixed_table("3-class", rows=500), workdir / "input" / "Customer Table 2026.csv")
        return make_project(template, workdir, table, "target")

    def test_copy_adopts_the_table_with_a_reviewed_contract(self, project: Path) -> None:
        assert (project / "data/raw/Customer_Table_2026.csv").is_file()
        assert (project / "data/raw/Customer_Table_2026.csv.dvc").is_file()
        assert "data/raw/Customer_Table_2026.csv" in (project / "params.yaml").read_text()
        contract = yaml.safe_load((project / "contract.yaml").read_text())
        assert contract["task"] == "classification"
        assert contract["target"]["labels"] == ["alpha", "beta", "gamma"]
        assert contract["columns"]["customer_id"]["role"] == "identifier"
        assert contract["columns"]["source"]["role"] == "ignored"
        assert contract["columns"]["city"]["nullable"] is True
        gates = tomllib.loads((project / "pyproject.toml").read_text())["tool"]["slipway"]["gates"]
        assert not {"thresholds", "guarded", "primary_metric"} & set(gates)  # no bar known for new data

    def test_default_gates_pass_and_the_bar_is_the_baseline(self, project: Path) -> None:
        result = nox(project, check=False)
        out = output(result)
        assert summary(out) == dict.fromkeys(DEFAULT_GATES, "success"), out[-6000:]
        assert "vs baseline" in out
        metrics = json.loads((project / "reports/metrics.json").read_text())
        assert set(metrics) == {"roc_auc", "accuracy", "f1", "log_loss"}
        assert metrics["roc_auc"] > 0.8
        assert "evaluate: pass" in out
        assert verdict_of(project) == "Evaluation gate: passed its one check (the naive baseline)."


class TestRegressionFromParquet:
    @pytest.fixture(scope="class")
    @classmethod
    def project(cls, template: Path, workdir: Path) -> Path:
        table = write(mixed_table("regression", rows=400, seed=2), workdir / "input" / "prices.parquet")
        return make_project(template, workdir, table, "target", ml_task="regression")

    def test_default_gates_pass(self, project: Path) -> None:
        result = nox(project, check=False)
        out = output(result)
        assert summary(out) == dict.fromkeys(DEFAULT_GATES, "success"), out[-6000:]
        assert set(json.loads((project / "reports/metrics.json").read_text())) == {"rmse", "mae", "r2"}
        assert "rmse vs baseline" in out
        assert verdict_of(project) == "Evaluation gate: passed its one check (the naive baseline)."


@pytest.mark.parametrize(
    ("answers", "message"),
    [({"target": "target", "ml_task": "regression"}, "regression needs numbers")],
    ids=["strings for regression"],  # every bad table: tests/test_adopt.py and tests/test_contract.py
)
def test_a_bad_table_stops_the_copy_in_one_line(
    template: Path, tmp_path: Path, answers: dict[str, str], message: str
) -> None:
    table = write(mixed_table("3-class"), tmp_path / "table.csv")
    dest = tmp_path / "project"
    result = copier_cli(template, dest, data_path=str(table), **answers)
    assert result.returncode != 0
    ours = [
        line for line in (result.stdout + result.stderr).splitlines() if line.startswith("slipway: adopt:")
    ]
    assert len(ours) == 1, result.stderr[-3000:]
    assert message in ours[0]
    assert not dest.exists()  # copier removes the half-made project


def test_a_missing_table_stops_the_copy_at_once(template: Path, tmp_path: Path) -> None:
    dest = tmp_path / "project"
    with pytest.raises(subprocess.CalledProcessError):
        render_project(template, dest, data_path=str(tmp_path / "nowhere.csv"), target="y")
    assert not dest.exists()


class TestFiveClassesServedAndMonitored:
    """Five string labels: deployed, served with strings and nulls, watched for a shifted mix."""

    @pytest.fixture(scope="class")
    @classmethod
    def project(cls, template: Path, workdir: Path) -> Path:
        table = write(mixed_table("5-class", rows=600, seed=5), workdir / "input" / "five.csv")
        project = make_project(template, workdir, table, "target", project_name="Five Classes")
        out = output(nox(project, "-s", "train", "evaluate", "deploy"))
        assert "smoke: five-classes version 1 served" in out
        return project

    def test_predict_answers_labels_and_probabilities_for_strings_and_nulls(self, project: Path) -> None:
        labels = ["alpha", "beta", "delta", "epsilon", "gamma"]
        columns = ["age", "income", "city", "member"]
        rows: list[list[Any]] = [
            [41, 52000.5, "Oslo", True],
            [None, None, None, None],
            [30, 18000.0, "Atlantis", False],
        ]
        with serving(project) as base:
            status, answer = call(f"{base}/predict", split(columns, rows))
        assert status == 200, answer
        assert answer["classes"] == labels
        assert len(answer["predictions"]) == 3
        assert set(answer["predictions"]) <= set(labels)
        assert all(abs(sum(row) - 1) < 1e-9 for row in answer["probabilities"])
        assert answer["warnings"] == ["column 'city' row 2: unseen category 'Atlantis'"]

    def test_monitor_flags_a_shifted_mix_of_categories_and_an_unseen_one(self, project: Path) -> None:
        batch = pd.read_csv(project / "data/processed/test.csv")
        shifted = batch.assign(city=["Tunis"] * (len(batch) - 5) + ["Atlantis"] * 5)
        path = write(shifted, project / "batch.csv")
        result = nox(project, "-s", "monitor", "--", str(path), check=False)
        assert result.returncode != 0
        line = next(ln for ln in output(result).splitlines() if ln.startswith("slipway monitor:"))
        assert "city" in line
        assert "Atlantis" in line
        report = json.loads((project / "reports/monitor/report.json").read_text())
        assert report["unseen_categories"] == {"city": ["Atlantis"]}
        assert {f["name"] for f in report["features"] if f["drifted"]} >= {"city"}
