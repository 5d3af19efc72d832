"""Copier task: finish a rendered project (git repository, example data in DVC, lock file, .venv).

Runs with copier's own Python and the standard library only; every step is idempotent and writes
nothing that depends on the path or the time (two copies are byte-identical: tests/test_update.py),
outside what git ignores: the `.venv` it syncs for the first `nox`, and that run's bytecode cache.
copier.yml runs it on the first copy only, never on `copier update`: update renders throwaway copies
of the old and new template and deletes from the project what only the old copy has, so a task there
must not differ between versions (and would cost ~10 s per copy).
Usage: python post_copy.py ML_TASK   (cwd: the project)
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import NoReturn

HOOKS = Path(__file__).resolve().parent
DATASETS = {"classification": "breast_cancer", "regression": "diabetes"}
# The version the example CSV is written with; pinned so every copy writes the same bytes.
SKLEARN = "scikit-learn==1.9.1"
# Where the nox sessions keep the project's bytecode (slipway.environment.PYCACHE): what the copy
# task compiles there, the first `nox` does not compile again.
PYCACHE = Path(".nox") / "pycache"


def fail(message: str) -> NoReturn:
    print(f"slipway: {message}", file=sys.stderr)
    raise SystemExit(1)


def uv() -> str:
    found = shutil.which("uv")
    if found is None:
        fail("uv is needed to finish the project: install it (https://docs.astral.sh/uv/) and re-run")
    return str(found)


def start(*cmd: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def finish(process: subprocess.Popen[str], *cmd: str) -> None:
    """Wait for a command started with `start(*cmd)`; fail naming it, with its last line of output."""
    stdout, stderr = process.communicate()
    if process.returncode != 0:
        tail = (stderr or stdout).strip().splitlines()[-1:]
        fail(f"`{' '.join(cmd[:3])} ...` failed: {' '.join(tail)}")


def run(*cmd: str, env: dict[str, str] | None = None) -> None:
    finish(start(*cmd, env=env), *cmd)


def ensure_git() -> None:
    inside = subprocess.run(["git", "rev-parse", "--is-inside-work-tree"], capture_output=True, check=False)
    if inside.returncode != 0:
        run("git", "init", "--quiet", "--initial-branch=main")


def write_example_data(out: Path, name: str) -> None:
    script = str(HOOKS / "example_data.py")
    run(uv(), "run", "--quiet", "--no-project", "--with", SKLEARN, "python", script, name, str(out))


def track_with_dvc(out: Path) -> None:
    """`dvc add` with the DVC uv.lock pins, from the project's `.venv` synced as `nox` syncs it.

    So the first `nox` finds the environment ready and DVC's bytecode compiled.
    """
    env = {**os.environ, "PYTHONPYCACHEPREFIX": str(PYCACHE.resolve()), "PYTHONDONTWRITEBYTECODE": ""}
    run(uv(), "run", "--quiet", "--frozen", "--all-groups", "dvc", "add", "--quiet", str(out), env=env)


def main(task: str) -> None:
    ensure_git()
    lock = (uv(), "lock", "--quiet")
    locking = start(*lock)  # independent of the data: both at once
    name = DATASETS[task]
    out = Path("data/raw") / f"{name}.csv"
    try:
        if not out.exists():
            write_example_data(out, name)
    finally:
        finish(locking, *lock)
    if not out.with_name(out.name + ".dvc").exists():
        track_with_dvc(out)  # needs the lock file: DVC comes from the project's locked `pipeline` group


if __name__ == "__main__":
    main(sys.argv[1])
