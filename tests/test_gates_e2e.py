"""A project rendered with default answers passes its default gates, run for real with `uvx nox`."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import nox, output, run

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
    assert "evaluate: skipped, verdict cached for key" in logs["evaluate"]  # the model did not change
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


@contextmanager
def changed(path: Path, change: Callable[[str], str]) -> Iterator[None]:
    """The file changed for the block; then its bytes and modification time as they were."""
    original, stat = path.read_bytes(), path.stat()
    path.write_text(change(original.decode()))
    try:
        yield
    finally:
        path.write_bytes(original)
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))


# A teammate's deploy: another run's version of the model becomes champion.
MOVE_CHAMPION = """
import mlflow
from slipway.project import Project
from slipway.registry import PROJECT_TAG
project = Project.load()
mlflow.set_tracking_uri(project.tracking_uri)
with mlflow.start_run() as other:
    pass
registry = project.registry()
tags = {PROJECT_TAG: project.project_id}
version = registry.create_version(project.candidate().model_uri, other.info.run_id, tags)
registry.set_alias("champion", version.version)
"""


def ran(out: str) -> dict[str, bool]:
    """{session: True if it ran (and passed), False if skipped} from nox's `Session NAME ...` lines."""
    found = re.findall(r"^nox > Session ([\w-]+) (was successful|skipped)", out, flags=re.MULTILINE)
    return {name: status == "was successful" for name, status in found}


CACHED = r"verdict cached for key [0-9a-f]{12} \(SLIPWAY_FORCE=1 to re-run\)"
CHECKS = ("lint", "typecheck", "tests")


def test_unchanged_gates_are_skipped_and_a_changed_input_reruns_its_gates(default_project: Path) -> None:
    """Nothing changed: the checks are skipped naming their keys, evaluate reuses its verdict; each
    kind of input then re-runs the gates that read it (and only those), as does SLIPWAY_FORCE=1."""
    project = default_project
    run(project, "uvx", "nox")  # green; from the cache already when the test above ran
    again = output(run(project, "uvx", "nox"))
    assert ran(again) == {"train": True, "evaluate": True, **dict.fromkeys(CHECKS, False)}
    for gate in CHECKS:
        assert re.search(rf"Session {gate} skipped: {CACHED}", again), again
    assert re.search(rf"evaluate: skipped, {CACHED}: the tracking store is as it was", again)
    os.utime(project / "mlflow.db")  # the store's stamp moves, not its content: the gate asks the registry
    store = output(nox(project, "-s", "evaluate"))
    assert re.search(rf"evaluate: skipped, {CACHED}: challenger passed against no champion", store), store
    checks = ("-s", "typecheck", "tests")
    with changed(
        project / "params.yaml", lambda text: text.replace("n_estimators: 200", "n_estimators: 150")
    ):
        assert ran(output(nox(project, *checks))) == {"typecheck": False, "tests": True}
    with changed(
        project / "data" / "raw" / "breast_cancer.csv", lambda text: text[: text.rindex("\n", 0, -1) + 1]
    ):
        assert ran(output(nox(project, *checks))) == {"typecheck": False, "tests": True}
    with changed(project / "uv.lock", lambda text: text + "# relocked\n"):
        assert ran(output(nox(project, "-s", "typecheck"))) == {"typecheck": True}
    assert ran(output(nox(project, *checks))) == dict.fromkeys(checks[1:], False)  # all undone
    pyproject = project / "pyproject.toml"
    with changed(pyproject, lambda text: text.replace("bootstrap_samples = 1000", "bootstrap_samples = 999")):
        settings = output(nox(project, "-s", "evaluate"))
    assert "roc_auc vs baseline" in settings
    assert "verdict cached" not in settings
    run(project, str(project / ".venv" / "bin" / "python"), "-c", MOVE_CHAMPION)
    moved = output(nox(project, "-s", "evaluate"))
    assert re.search(r"roc_auc vs champion .* pass", moved), moved
    assert "verdict cached" not in moved
    forced = output(nox(project, "-s", "typecheck", env={"SLIPWAY_FORCE": "1"}))
    assert ran(forced) == {"typecheck": True}
