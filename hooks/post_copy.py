"""Copier task: finish a rendered project (git repository, example data in DVC, lock file).

Runs with copier's own Python and the standard library only; every step is idempotent and writes
nothing that depends on the path or the time (two copies are byte-identical: tests/test_update.py).
copier.yml runs it on the first copy only, never on `copier update`: update renders throwaway copies
of the old and new template and deletes from the project what only the old copy has, so a task there
must not differ between versions (and would cost ~10 s per copy).
Usage: python post_copy.py ML_TASK   (cwd: the project)
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import NoReturn

HOOKS = Path(__file__).resolve().parent
DATASETS = {"classification": "breast_cancer", "regression": "diabetes"}
# The version the example CSV is written with; pinned so every copy writes the same bytes.
SKLEARN = "scikit-learn==1.9.1"


def fail(message: str) -> NoReturn:
    print(f"slipway: {message}", file=sys.stderr)
    raise SystemExit(1)


def uv() -> str:
    found = shutil.which("uv")
    if found is None:
        fail("uv is needed to finish the project: install it (https://docs.astral.sh/uv/) and re-run")
    return str(found)


def run(*cmd: str) -> None:
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        tail = (result.stderr or result.stdout).strip().splitlines()[-1:]
        fail(f"`{' '.join(cmd[:3])} ...` failed: {' '.join(tail)}")


def ensure_git() -> None:
    inside = subprocess.run(["git", "rev-parse", "--is-inside-work-tree"], capture_output=True, check=False)
    if inside.returncode != 0:
        run("git", "init", "--quiet", "--initial-branch=main")


def write_example_data(out: Path, name: str) -> None:
    script = str(HOOKS / "example_data.py")
    run(uv(), "run", "--quiet", "--no-project", "--with", SKLEARN, "python", script, name, str(out))


def track_with_dvc(out: Path) -> None:
    """`dvc add`, with the DVC the project's lock file pins (its `pipeline` group)."""
    run(uv(), "run", "--quiet", "--frozen", "--only-group", "pipeline", "dvc", "add", "--quiet", str(out))


def main(task: str) -> None:
    ensure_git()
    run(uv(), "lock", "--quiet")
    name = DATASETS[task]
    out = Path("data/raw") / f"{name}.csv"
    if not out.exists():
        write_example_data(out, name)
    if not out.with_name(out.name + ".dvc").exists():
        track_with_dvc(out)


if __name__ == "__main__":
    main(sys.argv[1])
