"""Copier task: finish a rendered project (git repository, its table in DVC with a contract, lock file).

Runs with copier's own Python and the standard library only; every step is idempotent and writes
nothing that depends on the path or the time (two copies are byte-identical but for the random
`project_id` in pyproject.toml: tests/test_update.py),
outside what git ignores: the `.venv` it syncs for the first `nox`, and that run's bytecode cache.
copier.yml runs it on the first copy only, never on `copier update`: update renders throwaway copies
of the old and new template and deletes from the project what only the old copy has, so a task there
must not differ between versions (and would cost ~10 s per copy).
Usage: python post_copy.py --task TASK --table NAME [--data-path PATH --target COLUMN]   (cwd: the project)
The table (the user's, or scikit-learn's example) goes to data/raw/NAME; `slipway adopt` then
checks it, infers contract.yaml and runs `dvc add`. A bad table stops the copy with its one line.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import NoReturn

HOOKS = Path(__file__).resolve().parent
sys.path.insert(0, str(HOOKS / "migrations"))
from project_id import ensure_project_id  # noqa: E402 - a sibling script, not a package

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
    """Wait for a command started with `start(*cmd)`; fail with its last line of output."""
    stdout, stderr = process.communicate()
    if process.returncode != 0:
        tail = (stderr or stdout).strip().splitlines()[-1:]
        last = " ".join(tail)
        fail(
            last.removeprefix("slipway ")
            if last.startswith("slipway adopt:")
            else f"`{' '.join(cmd[:3])} ...` failed: {last}"
        )


def run(*cmd: str, env: dict[str, str] | None = None) -> None:
    finish(start(*cmd, env=env), *cmd)


def ensure_git() -> None:
    inside = subprocess.run(["git", "rev-parse", "--is-inside-work-tree"], capture_output=True, check=False)
    if inside.returncode != 0:
        run("git", "init", "--quiet", "--initial-branch=main")


def source_table(data_path: str) -> Path:
    """The user's table: absolute, or relative to the directory copier was run from."""
    path = Path(data_path).expanduser()
    if not path.is_absolute():
        path = Path(os.environ.get("PWD", os.getcwd())) / path
    if not path.is_file():
        fail(f"data_path {data_path!r}: no such file ({path}): give the path of a CSV or Parquet table")
    return path


def write_example_data(out: Path, name: str) -> None:
    script = str(HOOKS / "example_data.py")
    run(uv(), "run", "--quiet", "--no-project", "--with", SKLEARN, "python", script, name, str(out))


def adopt(table: Path, target: str, task: str) -> None:
    """`slipway adopt` from the project's `.venv` synced as `nox` syncs it (contract.yaml, dvc add).

    So the first `nox` finds the environment ready and the bytecode of pandas and DVC compiled.
    """
    env = {**os.environ, "PYTHONPYCACHEPREFIX": str(PYCACHE.resolve()), "PYTHONDONTWRITEBYTECODE": ""}
    cmd = ("slipway", "adopt", str(table), "--target", target, "--task", task)
    run(uv(), "run", "--quiet", "--frozen", "--all-groups", *cmd, env=env)


def main(args: argparse.Namespace) -> None:
    source = source_table(args.data_path) if args.data_path else None
    ensure_git()
    ensure_project_id(Path("pyproject.toml"))  # random: the one line two copies differ in
    lock = (uv(), "lock", "--quiet")
    locking = start(*lock)  # independent of the data: both at once
    table = Path("data/raw") / args.table
    try:
        if source is not None:
            table.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, table)
        elif not table.exists():
            write_example_data(table, DATASETS[args.task])
    finally:
        finish(locking, *lock)
    if not Path("contract.yaml").exists():
        adopt(table, args.target, args.task)  # needs the lock file: slipway and DVC come from it


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="post_copy.py")
    parser.add_argument("--task", choices=sorted(DATASETS), required=True)
    parser.add_argument("--table", required=True, help="file name under data/raw/")
    parser.add_argument("--data-path", default="", help="the user's table; empty: the bundled example")
    parser.add_argument("--target", default="target")
    return parser.parse_args(argv)


if __name__ == "__main__":
    main(parse(sys.argv[1:]))
