"""Every answer combination renders to a project with no leftover Jinja and valid TOML/YAML."""

from __future__ import annotations

import itertools
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from tests.answers import PYTHONS, TASKS
from tests.conftest import Render, git

COMBINATIONS = list(itertools.product(PYTHONS, TASKS))
JINJA_LEFTOVER = re.compile(r"\{\{-?\s*[A-Za-z_]|\{%|%\}")  # a variable or a statement, not JSON's "}}"
GITHUB_EXPRESSION = re.compile(r"\$\{\{.*?\}\}")  # `${{ github.sha }}` in workflows is not Jinja


def text_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and ".git" not in p.parts]


@pytest.mark.parametrize(("python_version", "ml_task"), COMBINATIONS)
def test_combination_renders_clean(render: Render, python_version: str, ml_task: str) -> None:
    project = render(tasks=False, python_version=python_version, ml_task=ml_task)
    files = text_files(project)
    assert not [p for p in files if p.suffix == ".jinja"]
    leftovers = [p for p in files if JINJA_LEFTOVER.search(GITHUB_EXPRESSION.sub("", p.read_text()))]
    assert not leftovers, f"unrendered Jinja in {leftovers}"
    for path in files:
        if path.suffix == ".toml":
            tomllib.loads(path.read_text())
        elif path.suffix in {".yml", ".yaml"}:
            yaml.safe_load(path.read_text())
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    assert pyproject["project"]["requires-python"] == f">={python_version}"
    assert pyproject["tool"]["slipway"]["package"] == "my_model"
    assert (project / "src" / "my_model" / "model.py").exists()
    compile_all(project)
    for check in (["check", "--no-cache", "."], ["format", "--check", "--no-cache", "."]):
        result = subprocess.run(
            [sys.executable, "-m", "ruff", *check], cwd=project, capture_output=True, text=True
        )
        assert result.returncode == 0, f"generated code fails ruff {check[0]}:\n{result.stdout}"


def compile_all(project: Path) -> None:
    """Every generated Python file is syntactically valid."""
    for path in project.rglob("*.py"):
        compile(path.read_text(), str(path), "exec")


def test_derived_names_follow_the_project_name(render: Render) -> None:
    project = render(tasks=False, project_name="Churn Forecast 2")
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert answers["project_slug"] == "churn-forecast-2"
    assert answers["package_name"] == "churn_forecast_2"
    assert (project / "src" / "churn_forecast_2" / "__init__.py").exists()


def test_noxfile_pins_the_rendered_commit_offline(render: Render, template: Path) -> None:
    project = render(tasks=False)
    sha = git(template, "rev-parse", "HEAD").strip()
    noxfile = (project / "noxfile.py").read_text()
    assert f'"slipway @ git+file://{template}@{sha}"' in noxfile
    pyproject = (project / "pyproject.toml").read_text()
    assert f"slipway @ git+file://{template}@{sha}" in pyproject


def test_explicit_slipway_requirement_is_used(render: Render) -> None:
    project = render(tasks=False, slipway_requirement="slipway==0.1.0")
    assert '"slipway==0.1.0"' in (project / "noxfile.py").read_text()


# The bundled example of each task: its table under data/raw/ and its rows.
EXAMPLES = {"classification": ("breast_cancer", 569), "regression": ("diabetes", 442)}


@pytest.mark.parametrize("ml_task", TASKS)
def test_copy_tasks_write_data_repo_and_lock(render: Render, ml_task: str) -> None:
    project = render(ml_task=ml_task)
    name, count = EXAMPLES[ml_task]  # a new task without an example fails here
    header, *rows = (project / "data" / "raw" / f"{name}.csv").read_text().splitlines()
    assert header.split(",")[-1] == "target"
    assert len(rows) == count
    assert (project / ".git").is_dir()
    assert (project / "uv.lock").exists()
