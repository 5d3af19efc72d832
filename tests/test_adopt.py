"""Adopting a table: bad tables change nothing (the command, then the session); a good one goes green.

One default project (breast cancer, committed) in order: each bad table is refused in one line with
the project byte for byte as before, a dirty tree is refused, then scikit-learn's iris (string
labels, one repeated row) replaces the example data and the next plain `nox` is green on it.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml
from slipway import cli

from tests.conftest import commit_all, git, nox, output, render_project
from tests.tables import mixed_table, sklearn_table, write

PROJECT_FILES = {  # what `slipway adopt` reads of a project before it changes anything
    "params.yaml": "data:\n  raw: data/raw/breast_cancer.csv\n",
    "pyproject.toml": '[tool.slipway]\npackage = "m"\n[tool.slipway.gates]\nprimary_metric = "roc_auc"\n',
    "dvc.yaml": "stages: {}\n",
    "data/raw/breast_cancer.csv": "x,target\n1,0\n",
}

DEFAULT_GATES = ("train", "typecheck", "lint", "tests", "evaluate")


@pytest.fixture(scope="module")
def project(template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = render_project(template, tmp_path_factory.mktemp("adopt") / "my-model")
    commit_all(path, "rendered")
    return path


def state(project: Path) -> dict[str, bytes]:
    """Every file git sees (tracked or not, ignored ones aside) plus the DVC-tracked table."""
    listed = git(project, "ls-files", "-z", "--cached", "--others", "--exclude-standard").split("\0")
    names = [name for name in listed if name] + ["data/raw/breast_cancer.csv"]
    return {name: (project / name).read_bytes() for name in names if (project / name).is_file()}


def bad_tables(base: Path) -> dict[str, tuple[Path, str, str]]:
    """name -> (table, target, the words the one line must hold)."""
    base.mkdir(parents=True, exist_ok=True)
    (base / "empty.csv").write_text("")
    return {
        "no such target": (
            write(mixed_table(), base / "a.csv"),
            "label",
            "target column 'label' is not in the table",
        ),
        "one class": (write(mixed_table().assign(target="alpha"), base / "b.csv"), "target", "one value"),
        "empty file": (base / "empty.csv", "target", "is empty"),
        "no usable feature": (
            write(mixed_table()[["customer_id", "source", "target"]], base / "c.parquet"),
            "target",
            "no usable feature",
        ),
        "a quantity as classes": (
            write(mixed_table("regression"), base / "d.csv"),
            "target",
            "that is regression",
        ),
    }


BAD = ["no such target", "one class", "empty file", "no usable feature", "a quantity as classes"]


@pytest.mark.parametrize("case", BAD)
def test_bad_table_is_refused_by_the_command_changing_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], case: str
) -> None:
    """`slipway adopt`, what the session runs, among a project's files: one line, every byte kept."""
    table, target, words = bad_tables(tmp_path / "tables")[case]
    project = tmp_path / "project"
    for name, text in PROJECT_FILES.items():
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text(text)
    before = {p: p.read_bytes() for p in project.rglob("*") if p.is_file()}
    monkeypatch.chdir(project)
    task = ["--task", "classification"] if case == "a quantity as classes" else []
    assert cli.main(["adopt", str(table), "--target", target, *task]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith("slipway adopt: ")
    assert words in err[0]
    assert {p: p.read_bytes() for p in project.rglob("*") if p.is_file()} == before


@pytest.mark.e2e
@pytest.mark.parametrize("case", ["empty file", "a quantity as classes"])
def test_bad_table_is_one_line_and_changes_nothing(project: Path, tmp_path: Path, case: str) -> None:
    table, target, words = bad_tables(tmp_path)[case]
    before = state(project)
    task = ["--task", "classification"] if case == "a quantity as classes" else []
    result = nox(project, "-s", "data-adopt", "--", str(table), "--target", target, *task, check=False)
    out = output(result)
    assert result.returncode != 0
    lines = [line for line in out.splitlines() if line.startswith("slipway adopt:")]
    assert len(lines) == 1, out[-3000:]
    assert words in lines[0]
    assert "Traceback" not in out
    assert state(project) == before
    assert git(project, "status", "--porcelain") == ""


@pytest.mark.e2e
def test_dirty_tree_is_refused(project: Path, tmp_path: Path) -> None:
    params = project / "params.yaml"
    original = params.read_text()
    params.write_text(original + "# an edit in progress\n")
    try:
        result = nox(
            project,
            "-s",
            "data-adopt",
            "--",
            str(write(mixed_table(), tmp_path / "t.csv")),
            "--target",
            "target",
            check=False,
        )
    finally:
        params.write_text(original)
    assert result.returncode != 0
    assert "data-adopt needs a clean git tree, 1 paths are changed or untracked" in output(result)


@pytest.mark.e2e
def test_adopting_iris_replaces_the_example_and_goes_green(project: Path, tmp_path: Path) -> None:
    table = write(sklearn_table("iris"), tmp_path / "iris flowers.csv")
    out = output(nox(project, "-s", "data-adopt", "--", str(table), "--target", "target"))
    assert "adopt: data/raw/iris_flowers.csv: 150 rows, classification of 'target' into 3 classes" in out
    assert "adopt: removed data/raw/breast_cancer.csv from the workspace and from DVC tracking" in out
    assert "adopt: [tool.slipway.gates]: removed primary_metric, thresholds, guarded" in out
    assert not (project / "data/raw/breast_cancer.csv").exists()
    assert not (project / "data/raw/breast_cancer.csv.dvc").exists()
    assert pd.read_csv(project / "data/raw/iris_flowers.csv").equals(pd.read_csv(table))
    contract = yaml.safe_load((project / "contract.yaml").read_text())
    assert contract["target"]["labels"] == ["setosa", "versicolor", "virginica"]
    assert contract["checks"]["no_duplicate_rows"] is False  # iris repeats one flower
    params = yaml.safe_load((project / "params.yaml").read_text())
    assert params["data"]["raw"] == "data/raw/iris_flowers.csv"
    gates = (project / "pyproject.toml").read_text().split("[tool.slipway.gates]")[1].split("\n[")[0]
    assert "thresholds" not in gates.replace("# thresholds", "")
    changed = {line[3:] for line in git(project, "status", "--porcelain").splitlines()}
    assert {"contract.yaml", "params.yaml", "pyproject.toml", "data/raw/.gitignore"} <= changed

    commit_all(project, "data: iris")
    result = nox(project, check=False)
    summary = output(result)
    assert result.returncode == 0, summary[-6000:]
    assert "Running stage 'validate'" in summary
    assert "vs baseline" in summary
