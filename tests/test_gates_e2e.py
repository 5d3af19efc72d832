"""A project rendered with default answers passes its default gates, run for real with `uvx nox`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import run

pytestmark = pytest.mark.e2e


def test_default_gates_pass(default_project: Path) -> None:
    result = run(default_project, "uvx", "nox")
    out = result.stdout + result.stderr
    for session in ("lint", "typecheck", "tests"):
        assert f"* {session}: success" in out


def test_sessions_are_listed_with_the_public_names(default_project: Path) -> None:
    listed = json.loads(run(default_project, "uvx", "nox", "-l", "--json").stdout)
    names = {entry["session"] for entry in listed}
    assert {"lint", "typecheck", "tests"} <= names


def test_bad_slipway_config_fails_in_one_line(default_project: Path, tmp_path: Path) -> None:
    pyproject = default_project / "pyproject.toml"
    original = pyproject.read_text()
    try:
        pyproject.write_text(original.replace("coverage_floor = 80", 'coverage_floor = "high"'))
        result = run(default_project, "uvx", "nox", "-s", "tests", check=False)
    finally:
        pyproject.write_text(original)
    assert result.returncode != 0
    out = result.stdout + result.stderr
    assert "[tool.slipway] coverage_floor must be an integer 0-100, got 'high'" in out
    assert "Traceback" not in out
