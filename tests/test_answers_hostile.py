"""Hostile copier answers (issue 14, section 3): refused in one line naming the question, or rendered
so that every generated file parses, holds the answer verbatim, and importing the package runs nothing.
"""

from __future__ import annotations

import ast
import configparser
import html
import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import mdformat
import pytest
import yaml
from markdown_it import MarkdownIt
from packaging.requirements import Requirement

from tests.conftest import Render, render_project

MARKER = "PWNED"
# Each value tries to break out of the string it lands in: Python's docstring, TOML's basic
# string (a second author, a new key), PEP 508 (a second requirement), YAML's flow sequence.
HOSTILE = {
    "description": f'x"""; __import__("pathlib").Path("{MARKER}").touch(); """y \\ *b* <i> 1. `c` é 🚀 "',
    "author_name": 'Eve" }, { name = "Mallory',
    "author_email": 'e"ve@example.com',
    "slipway_requirement": "slipway @ git+https://example.invalid/s.git@v1#egg=slipway",
    "mlflow_tracking_uri": "postgresql://db.example.com:5432/mlflow",
    "dvc_remote": "s3://bucket/models?x=1&y=2",
    "deploy_target": "kubernetes",
}


@pytest.mark.parametrize(
    "value",
    ["slipway==0.1.0", "slipway>=0.1,<0.2", "slipway @ git+ssh://git@github.com/org/slipway@0a1b2c"],
)
def test_slipway_requirement_forms_are_accepted_and_parse(render: Render, value: str) -> None:
    project = render(tasks=False, slipway_requirement=value)
    dependencies = tomllib.loads((project / "pyproject.toml").read_text())["project"]["dependencies"]
    assert dependencies[0] == value
    assert Requirement(value).name == "slipway"


@pytest.fixture(scope="module")
def hostile(template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One project rendered with every accepted hostile answer at once (no tasks: files only)."""
    return render_project(template, tmp_path_factory.mktemp("hostile") / "project", tasks=False, **HOSTILE)


def parsed(path: Path) -> Any:
    """The file read by its language's parser; None for files of no parsed language."""
    text = path.read_text()
    if path.suffix == ".toml":
        return tomllib.loads(text)
    if path.suffix in {".yml", ".yaml"}:
        return list(yaml.safe_load_all(text))
    if path.suffix == ".py":
        return ast.parse(text, str(path))
    if path.suffix == ".json":
        return json.loads(text)
    return None


def test_every_file_parses(hostile: Path) -> None:
    files = [p for p in hostile.rglob("*") if p.is_file() and ".git" not in p.parts]
    kinds = {p.suffix for p in files if parsed(p) is not None}
    assert {".toml", ".yml", ".yaml", ".py"} <= kinds


def test_answers_land_verbatim(hostile: Path) -> None:
    pyproject = tomllib.loads((hostile / "pyproject.toml").read_text())
    project = pyproject["project"]
    assert project["description"] == HOSTILE["description"]
    assert project["authors"] == [{"name": HOSTILE["author_name"], "email": HOSTILE["author_email"]}]
    assert project["version"] == "0.1.0"
    assert project["dependencies"][0] == HOSTILE["slipway_requirement"]
    assert pyproject["tool"]["slipway"]["mlflow"]["tracking_uri"] == HOSTILE["mlflow_tracking_uri"]
    docstring = ast.get_docstring(parsed(hostile / "src" / "my_model" / "__init__.py"), clean=False)
    assert docstring == HOSTILE["description"]
    script = re.search(r"^# /// script\n(.*?)^# ///$", (hostile / "noxfile.py").read_text(), re.M | re.S)
    assert script, "noxfile.py lost its PEP 723 block"
    block = tomllib.loads("".join(line[2:] + "\n" for line in script[1].splitlines()))
    assert block["dependencies"][1] == HOSTILE["slipway_requirement"]
    hooks = yaml.safe_load((hostile / ".pre-commit-config.yaml").read_text())
    slipway_hooks = [
        hook["additional_dependencies"]
        for repo in hooks["repos"]
        for hook in repo["hooks"]
        if str(hook.get("entry", "")).startswith("slipway-")
    ]
    assert slipway_hooks == [[HOSTILE["slipway_requirement"]]] * 4
    train = yaml.safe_load((hostile / ".github" / "workflows" / "train.yml").read_text())
    (poster,) = [s for s in train["jobs"]["comment"]["steps"] if "slipway-pr-comment" in s.get("run", "")]
    assert poster["env"]["SLIPWAY"] == HOSTILE["slipway_requirement"]
    dvc = configparser.ConfigParser(interpolation=None)
    dvc.read_string((hostile / ".dvc" / "config").read_text())
    assert dvc["'remote \"storage\"'"]["url"] == HOSTILE["dvc_remote"]
    answers = yaml.safe_load((hostile / ".copier-answers.yml").read_text())
    assert {key: answers[key] for key in HOSTILE} == HOSTILE


def test_readme_shows_the_description_as_text(hostile: Path) -> None:
    """Markup in the answer stays text: an HTML paragraph holding it escaped, which Markdown passes on
    as it is and the project's mdformat hook leaves unchanged (its first lint passes)."""
    readme = (hostile / "README.md").read_text()
    line = readme.splitlines()[2]
    inner = re.fullmatch(r"<p>([^<>]*)</p>", line)
    assert inner, line  # no tag of the answer's own: < and > are entities
    assert html.unescape(inner.group(1)) == HOSTILE["description"].strip()
    assert MarkdownIt("commonmark").render(line).strip() == line  # a raw HTML block: no Markdown inside
    assert mdformat.text(readme, options={"compact_tables": True}, extensions={"gfm"}) == readme


def test_importing_the_package_runs_nothing(hostile: Path, tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", "import my_model; print(my_model.__doc__)"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(hostile / "src"), "PYTHONIOENCODING": "utf-8"},
        capture_output=True,
        encoding="utf-8",
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.rstrip("\n") == HOSTILE["description"]
    assert not (tmp_path / MARKER).exists()


@pytest.mark.parametrize(
    ("uri", "driver"),
    [
        ("postgresql+psycopg2://db.example.com/mlflow", "psycopg2-binary"),
        ("https://mlflow.example.com", None),
    ],
)
def test_tracking_uri_scheme_brings_its_driver(render: Render, uri: str, driver: str | None) -> None:
    project = render(tasks=False, mlflow_tracking_uri=uri)
    dependencies = tomllib.loads((project / "pyproject.toml").read_text())["project"]["dependencies"]
    requirements = [Requirement(d) for d in dependencies]
    named = {r.name + "".join(f"[{e}]" for e in sorted(r.extras)) for r in requirements}
    assert named & {"psycopg2-binary", "psycopg[binary]", "pg8000"} == ({driver} if driver else set())


def test_postgresql_uri_brings_psycopg(hostile: Path) -> None:
    """SQLAlchemy 2.1 opens `postgresql://` with psycopg 3: the rendered project depends on it."""
    dependencies = tomllib.loads((hostile / "pyproject.toml").read_text())["project"]["dependencies"]
    assert "psycopg[binary]>=3.2" in dependencies


def test_missing_database_driver_is_one_line_without_the_password(default_project: Path) -> None:
    """A postgresql:// store in a project without its driver: one line naming the module, password masked."""
    result = subprocess.run(
        [str(default_project / ".venv" / "bin" / "slipway"), "history"],
        cwd=default_project,
        env={**os.environ, "MLFLOW_TRACKING_URI": "postgresql://mlflow:s3cret@127.0.0.1:9/mlflow"},
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "needs the database driver 'psycopg', which the project lacks" in lines[0]
    assert "uv add 'psycopg[binary]'" in lines[0]
    assert "postgresql://mlflow:***@127.0.0.1:9/mlflow" in lines[0]
    assert "s3cret" not in result.stdout + result.stderr
