"""A project rendered with default answers passes its default gates, run for real with `uvx nox`."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.conftest import output, run

pytestmark = pytest.mark.e2e


DEFAULT_GATES = ("train", "typecheck", "lint", "tests", "evaluate")
BROKEN_TEST = """

def test_deliberately_broken() -> None:
    assert sorted([2, 1]) == [2, 1], "a bug the cached run must not hide"
"""


def summary(out: str) -> dict[str, str]:
    """nox's closing list, `* SESSION: STATUS, took ...` -> {session: status}."""
    lines = out[out.rindex("nox > Ran ") :].splitlines()[1:]
    return dict(line.removeprefix("nox > * ").split(",")[0].split(": ") for line in lines if "* " in line)


def blocks(out: str) -> dict[str, str]:
    """nox's parallel log, one block per session under a `========== ✓ NAME: STATUS` header."""
    parts = re.split(r"^={10} \S+ ([\w-]+): .*$", out, flags=re.MULTILINE)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def test_default_gates_pass_and_a_failing_one_is_named_last(default_project: Path) -> None:
    """Plain `nox` runs the gates side by side, each log in one block; a failure ends the summary."""
    green = output(run(default_project, "uvx", "nox"))
    assert summary(green) == dict.fromkeys(DEFAULT_GATES, "success")
    test_file = default_project / "tests" / "unit" / "test_params.py"
    original = test_file.read_text()
    try:
        test_file.write_text(original + BROKEN_TEST)
        result = run(default_project, "uvx", "nox", check=False)
    finally:
        test_file.write_text(original)
    out = output(result)
    assert result.returncode != 0
    assert summary(out) == {**dict.fromkeys(DEFAULT_GATES, "success"), "tests": "failed"}
    logs = blocks(out)
    assert set(logs) == set(DEFAULT_GATES)
    assert "a bug the cached run must not hide" in logs["tests"]
    assert all("test_deliberately_broken" not in logs[name] for name in DEFAULT_GATES if name != "tests")


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
    out = output(result)
    assert "[tool.slipway] coverage_floor must be an integer 0-100, got 'high'" in out
    assert "Traceback" not in out
