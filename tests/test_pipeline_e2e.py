"""The generated DVC pipeline, run for real: reproducible, cached, pushable, and guarded by its contract."""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml
from slipway.hooks import check_stage_deps

from tests.conftest import commit_all, git, nox, output, render_project, run

pytestmark = pytest.mark.e2e
STAGES = ("validate", "featurize", "train", "evaluate")


@pytest.fixture(scope="module")
def remote(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("dvc-remote")


@pytest.fixture(scope="module")
def trained(template: Path, tmp_path_factory: pytest.TempPathFactory, remote: Path) -> Path:
    """A default project (data remote in a temp dir) after one real `nox -s train`."""
    project = render_project(
        template, tmp_path_factory.mktemp("pipeline") / "my-model", dvc_remote=str(remote)
    )
    nox(project, "-s", "train")
    return project


def dvc(project: Path, *args: str) -> str:
    return run(project, str(project / ".venv" / "bin" / "dvc"), *args).stdout


def test_train_leaves_a_clean_reproducible_pipeline(trained: Path) -> None:
    assert "Data and pipelines are up to date." in dvc(trained, "status")
    metrics = json.loads((trained / "reports" / "metrics.json").read_text())
    assert metrics["roc_auc"] > 0.95
    summary = json.loads((trained / "reports" / "contract.json").read_text())
    assert summary == {
        "rows": 569, "columns": 31, "features": 30, "missing_cells": 0, "classes": {"0": 212, "1": 357},
    }  # fmt: skip
    assert (trained / "reports" / "plots" / "predictions.csv").exists()
    assert "roc_auc" in dvc(trained, "metrics", "show")
    record = json.loads((trained / "models" / "train.json").read_text())
    assert set(record) == {"run_id", "model_uri"}


def test_second_train_reruns_no_stage(trained: Path) -> None:
    out = output(nox(trained, "-s", "train"))
    assert "Running stage" not in out
    for stage in STAGES:
        assert f"Stage '{stage}' didn't change, skipping" in out


@pytest.mark.parametrize(
    ("changed", "edit"),
    [
        ("params.yaml", lambda text: text.replace("min_samples_leaf: 2", "min_samples_leaf: 3")),
        ("src/my_model/tracking.py", lambda text: text + "\n# a reviewer's note changes the file\n"),
    ],
    ids=["a model param", "a module the train and evaluate stages import"],
)
def test_change_reruns_only_the_stages_that_depend_on_it(
    trained: Path, changed: str, edit: Callable[[str], str]
) -> None:
    path = trained / changed
    original = path.read_text()
    try:
        path.write_text(edit(original))
        assert path.read_text() != original
        out = output(nox(trained, "-s", "train"))
        assert "Stage 'featurize' didn't change, skipping" in out
        assert "Running stage 'train'" in out
        assert "Running stage 'evaluate'" in out
    finally:
        path.write_text(original)
        nox(trained, "-s", "train")


def test_every_stage_depends_on_the_code_it_runs(trained: Path) -> None:
    """DVC skips a stage whose deps are unchanged: a module missing from deps would go stale."""
    assert check_stage_deps.missing(trained / "dvc.yaml") == []
    stages = yaml.safe_load((trained / "dvc.yaml").read_text())["stages"]
    assert "src/my_model/tracking.py" in stages["evaluate"]["deps"]  # imported, not run directly


def md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def test_push_then_fresh_clone_pulls_data_on_train(trained: Path, tmp_path: Path) -> None:
    raw = trained / "data" / "raw" / "breast_cancer.csv"
    nox(trained, "-s", "data-push")
    commit_all(trained, "pipeline run")
    clone = tmp_path / "clone"
    git(trained, "clone", "--quiet", str(trained), str(clone))
    assert not (clone / "data" / "raw" / "breast_cancer.csv").exists()
    out = output(nox(clone, "-s", "train"))
    assert "pulling from the DVC remote" in out
    assert md5(clone / "data" / "raw" / "breast_cancer.csv") == md5(raw)
    assert "Running stage" not in out  # outputs came from the remote: nothing to recompute


@pytest.fixture
def raw_csv(trained: Path) -> Iterator[Path]:
    """The raw CSV, restored after the test breaks it."""
    path = trained / "data" / "raw" / "breast_cancer.csv"
    backup = path.with_suffix(".bak")
    shutil.copy2(path, backup)
    yield path
    shutil.move(backup, path)


def break_csv(path: Path, edit: str) -> None:
    header, first, *rest = path.read_text().splitlines()
    columns = header.split(",")
    cells = first.split(",")
    if edit == "wrong type":
        cells[0] = "abc"
    elif edit == "missing column":
        keep = [i for i, name in enumerate(columns) if name != "mean_texture"]
        columns = [columns[i] for i in keep]
        cells = [cells[i] for i in keep]
        rest = [",".join(row.split(",")[i] for i in keep) for row in rest]
    elif edit == "NaN label":
        cells[-1] = ""
    elif edit == "out of range":
        cells[1] = "-5.0"
    path.write_text("\n".join([",".join(columns), ",".join(cells), *rest]) + "\n")


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        ("wrong type", "column 'mean_radius' breaks type float: 'abc' is not a number"),
        ("missing column", "mean_texture"),
        ("NaN label", "column 'target'"),
        ("out of range", "column 'mean_texture' breaks in_range(0, 54.1)"),
    ],
)
def test_broken_data_stops_train_with_the_contract_message(
    trained: Path, raw_csv: Path, edit: str, message: str
) -> None:
    kept = {
        p: p.read_bytes() for p in (trained / "models" / "train.json", trained / "reports" / "metrics.json")
    }
    break_csv(raw_csv, edit)
    result = nox(trained, "-s", "train", check=False)
    assert result.returncode != 0
    contract_lines = [line for line in output(result).splitlines() if "data contract:" in line]
    assert contract_lines, output(result)
    assert message in contract_lines[0]
    assert "Traceback" not in output(result)
    for path, content in kept.items():
        assert path.read_bytes() == content, f"{path.name} changed after a failed contract"
