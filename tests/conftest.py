"""Fixtures: a tagged throwaway clone of the working tree, and projects rendered from it with copier."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import copier
import pytest

from tests.releases import copy_working_tree, current_version

ROOT = Path(__file__).resolve().parents[1]

# Quiet, offline-friendly defaults for every tool the rendered projects run.
os.environ.setdefault("DVC_NO_ANALYTICS", "1")
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT", "true")
os.environ.setdefault("DVC_SITE_CACHE_DIR", str(Path(tempfile.gettempdir()) / "slipway-tests-dvc-site"))
os.environ.setdefault("GIT_AUTHOR_NAME", "slipway tests")
os.environ.setdefault("GIT_AUTHOR_EMAIL", "tests@example.com")
os.environ.setdefault("GIT_COMMITTER_NAME", "slipway tests")
os.environ.setdefault("GIT_COMMITTER_EMAIL", "tests@example.com")


# The modules that take longest (`pytest --durations`, seconds of one worker: the gate flow ~290,
# tracking server and update ~160 each, ...), started first: xdist hands out whole modules
# (`--dist loadscope`), and one long module handed out last would run alone at the end.
# `--no-loadscope-reorder` keeps this order (xdist's own puts modules with more tests first).
LONGEST_FIRST = (
    "test_gates_e2e_flow",
    "test_tracking_server",
    "test_update",
    "test_remotes",
    "test_gates_e2e",
    "test_registry_safety",
    "test_own_data",
    "test_adopt",
    "test_pipeline_e2e",
    "test_precommit",
    "test_serve_hardening",
)


# A test is e2e when it uses one of these fixtures, directly or through another (`render`,
# `default_project` and each module's project fixture are built on `template`): `-m "not e2e"` is
# then the fast lane, without a copier render, a project's env, MLflow or a served model.
E2E_FIXTURES = {
    "template": "copies the working tree and renders projects with copier",
    "python": "test_registry_safety: a rendered project's Python, for MLflow",
    "subject": "test_serve_hardening: logs models to MLflow in an overlay env",
    "mlflow_runs": "test_robustness: runs `slipway evaluate` in an overlay env with MLflow",
    "seeded": "test_store_seed: seeds and opens MLflow stores in an overlay env with MLflow",
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the tests using an E2E_FIXTURES fixture e2e; longest modules first."""
    for item in items:
        if not E2E_FIXTURES.keys().isdisjoint(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.e2e)

    def rank(item: pytest.Item) -> int:
        module = item.nodeid.split("::")[0].rsplit("/", 1)[-1].removesuffix(".py")
        return LONGEST_FIRST.index(module) if module in LONGEST_FIRST else len(LONGEST_FIRST)

    items.sort(key=rank)


@pytest.fixture(scope="session", autouse=True)
def bytecode_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """One bytecode cache for the subprocesses of this run (both xdist workers), in its temp dir.

    Where PYTHONDONTWRITEBYTECODE is set (these machines) each process would recompile what it
    imports: `import mlflow` in an overlay env takes seconds longer. The cache lives and goes with the
    run's temp dir, as do the rendered projects it also holds (their sessions keep their own).
    """
    run_dir = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        run_dir = run_dir.parent  # pytest-N/popen-gwK: the run's dir is shared by its workers
    os.environ.setdefault("PYTHONPYCACHEPREFIX", str(run_dir / "pycache"))
    os.environ["PYTHONDONTWRITEBYTECODE"] = ""


@pytest.fixture(scope="session", autouse=True)
def not_on_a_ci_runner() -> None:
    """Projects run as on a developer's machine: with CI set (CI runners set it) the gates trust no
    cached verdict, and the tests that prove the cache would fail there; its CI case sets CI itself."""
    os.environ.pop("CI", None)


def git(cwd: Path, *args: str) -> str:
    """Run git in `cwd` and return its stdout; fail the test with git's message on error."""
    result = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    assert result.returncode == 0, f"git {' '.join(args)}: {result.stderr}"
    return result.stdout


def snapshot_working_tree(dest: Path, tag: str | None = f"v{current_version()}") -> Path:
    """Commit the working tree (tracked + untracked, not ignored) into a fresh repo at `dest`.

    Tests render from this clone, so they see uncommitted edits; the tag lets update tests pin versions.
    """
    dest.mkdir(parents=True)
    copy_working_tree(dest)
    git(dest, "init", "--quiet", "--initial-branch=main")
    git(dest, "add", "--all")
    git(dest, "commit", "--quiet", "--no-verify", "-m", "snapshot of the working tree")
    if tag:
        git(dest, "tag", tag)
    return dest


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The template, as a tagged git repository in a temp dir."""
    return snapshot_working_tree(tmp_path_factory.mktemp("template") / "slipway")


Render = Callable[..., Path]


def render_project(template: Path, dest: Path, *, tasks: bool = True, **data: Any) -> Path:
    """Render the template into `dest` with copier's API; defaults fill every unanswered question."""
    copier.run_copy(
        str(template),
        str(dest),
        data=data,
        defaults=True,
        unsafe=True,
        vcs_ref="HEAD",
        quiet=True,
        skip_tasks=not tasks,
    )
    return dest


@pytest.fixture
def render(template: Path, tmp_path: Path) -> Render:
    """Render a project into this test's temp dir: `render(tasks=False, ml_task="regression")`."""
    count = 0

    def _render(*, tasks: bool = True, **data: Any) -> Path:
        nonlocal count
        count += 1
        return render_project(template, tmp_path / f"project{count}", tasks=tasks, **data)

    return _render


@pytest.fixture(scope="session")
def default_project(template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One project rendered with default answers (tasks run), shared by the read-only e2e checks."""
    return render_project(template, tmp_path_factory.mktemp("default") / "my-model")


COPIER_CLI = (sys.executable, "-m", "copier", "copy", "--trust", "--defaults", "--vcs-ref=HEAD")


def copier_cli(template: Path, dest: Path, **answers: str) -> subprocess.CompletedProcess[str]:
    """`copier copy --trust --defaults` through copier's CLI, as a user types it; never raises."""
    data = [arg for key, value in answers.items() for arg in ("--data", f"{key}={value}")]
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "copier",
            "copy",
            "--trust",
            "--defaults",
            "--vcs-ref=HEAD",
            *data,
            str(template),
            str(dest),
        ],
        capture_output=True,
        text=True,
        check=False,
    )


def run(
    cwd: Path, *cmd: str, check: bool = True, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run a command in a rendered project; on failure show its output in the assertion."""
    result = subprocess.run(
        cmd, cwd=cwd, capture_output=True, text=True, check=False, env={**os.environ, **(env or {})}
    )
    if check:
        assert result.returncode == 0, (
            f"{' '.join(cmd)} exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
        )
    return result


def nox(
    project: Path, *args: str, check: bool = True, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`uvx nox ARGS` in a rendered project, exactly as a user runs it."""
    return run(project, "uvx", "nox", *args, check=check, env=env)


def output(result: subprocess.CompletedProcess[str]) -> str:
    return result.stdout + result.stderr


def commit_all(project: Path, message: str = "snapshot") -> None:
    git(project, "add", "--all")
    git(project, "commit", "--quiet", "--no-verify", "-m", message)
