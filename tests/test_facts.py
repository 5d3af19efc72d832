"""Facts written in more than one place stay equal: each copy is checked against its one source.

Python versions: copier.yml's `python_releases` (the generated project derives its copies from it);
this repository's requires-python, ruff and mypy targets, CI and README must follow its oldest.
copier: `slipway.sessions.COPIER`, the copier `template-update` runs; copier.yml's
`_min_copier_version`, the test and typecheck groups' pins and the README must name the same.
"""

from __future__ import annotations

import re
import tomllib
from typing import Any, get_args

import yaml
from packaging.requirements import Requirement
from slipway.contract.schema import Task
from slipway.sessions import COPIER

from tests.answers import PYTHONS, TASKS, computed, questions
from tests.conftest import ROOT

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
README = (ROOT / "README.md").read_text()


def version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def own_ci() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / ".github" / "workflows" / "ci.yml").read_text())
    return loaded


def test_python_versions_are_oldest_first_and_compare_as_text() -> None:
    """The generated CI picks `v >= python_version` as text: right only while text order is version order."""
    assert sorted(PYTHONS, key=version_key) == PYTHONS
    assert sorted(PYTHONS) == PYTHONS
    for minor, release in computed("python_releases").items():
        assert release.startswith(f"{minor}."), f"the Dockerfile base {release} is not a {minor} release"


def test_this_repository_supports_exactly_the_oldest_python_projects_may_choose() -> None:
    """slipway runs in every project's environment: its floor is the oldest supported choice."""
    lowest = PYTHONS[0]
    assert PYPROJECT["project"]["requires-python"] == f">={lowest}"
    assert PYPROJECT["tool"]["ruff"]["target-version"] == f"py{lowest.replace('.', '')}"
    assert PYPROJECT["tool"]["mypy"]["python_version"] == lowest
    assert re.findall(r"Python ≥ ([0-9.]+)", README) == [lowest]


def test_own_ci_renders_every_choice_on_the_oldest_python() -> None:
    jobs = own_ci()["jobs"]
    matrix = jobs["render"]["strategy"]["matrix"]
    assert matrix["python_version"] == PYTHONS
    assert matrix["ml_task"] == TASKS
    for name in ("lint-typecheck", "tests"):
        steps = [step.get("with", {}) for step in jobs[name]["steps"]]
        pythons = [given["python-version"] for given in steps if "python-version" in given]
        assert pythons == [PYTHONS[0]], name


def test_ml_task_choices_are_the_tasks_slipway_knows() -> None:
    assert list(get_args(Task)) == TASKS


def test_one_copier_version_everywhere() -> None:
    pinned = Requirement(COPIER)
    assert pinned.name == "copier"
    (version,) = (spec.version for spec in pinned.specifier if spec.operator == "==")
    assert questions()["_min_copier_version"] == version
    groups = PYPROJECT["dependency-groups"]
    pins = [
        Requirement(item).specifier
        for group in groups.values()
        for item in group
        if isinstance(item, str) and Requirement(item).name == "copier"
    ]
    assert pins, "the test group no longer installs copier"
    assert {str(spec) for spec in pins} == {f"=={version}"}
    assert re.findall(r"copier ([0-9.]+) through `uvx`", README) == [version]
