"""New MLflow SQLite stores: seeded from slipway's cache (slipway.store_seed) against MLflow's migrations.

Usage: uv run python benchmarks/store.py [--runs N] [--baseline-ref REF]
  open    a new store's first operation, each in a fresh process of a default project's Python:
          MLflow replaying its migrations vs `seed()` then the same operation (ratio in the same run)
  build   the one-time cache build (per machine and MLflow schema)
  stage   the train stage (`python -m my_model.stages.train`) on a new store: a project rendered at
          --baseline-ref vs one from the working tree, alternating
  tests   `uvx nox -s tests` (the template's tests, whose stage test makes a store), same two projects
Each figure is the median of --runs runs (default 5). Nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from run import Bench, template_at, timed  # noqa: E402  (benchmarks/run.py)

from tests.conftest import render_project  # noqa: E402

# The first operation on a store, timed inside the process (the import of MLflow is not the store's).
OPEN = """
import sys, time
import mlflow
start = time.perf_counter()
if sys.argv[2] == "seeded":
    from slipway.store_seed import seed
    assert seed(sys.argv[1]), "not seeded"
mlflow.MlflowClient(tracking_uri=sys.argv[1]).search_experiments()
print(time.perf_counter() - start)
"""
PYTHON = ["uv", "run", "--frozen", "--no-sync", "python"]


def in_project(project: Path, *args: str, env: dict[str, str] | None = None) -> str:
    """Run the project's Python as its nox sessions do (their bytecode cache); return its stdout."""
    full = {**os.environ, **(env or {})}
    full |= {"PYTHONPYCACHEPREFIX": str(project / ".nox" / "pycache"), "PYTHONDONTWRITEBYTECODE": ""}
    result = subprocess.run([*PYTHON, *args], cwd=project, capture_output=True, text=True, env=full)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(args[:2])} failed in {project}:\n{result.stderr[-3000:]}")
    return result.stdout


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--baseline-ref", default="main", help="git ref whose template renders the baseline")
    args = parser.parse_args()
    b = Bench(args.runs)
    cache = b.work / "cache"  # this run's own: the build below is the first one
    os.environ["XDG_CACHE_HOME"] = str(cache)
    now = render_project(b.template, b.work / "now")
    before = render_project(template_at(b, args.baseline_ref), b.work / "before")
    for project in (now, before):
        timed(["uvx", "nox", "-s", "train"], project)  # data/processed for the stage runs below

    count = 0

    def first_operation(kind: str) -> float:
        nonlocal count
        count += 1
        return float(in_project(now, "-c", OPEN, f"sqlite:///{b.work}/open-{count}.db", kind))

    build = first_operation("seeded")  # builds the cache, then copies from it
    b.figure("one-time cache build + first seeded open", build)
    migrated = b.median("new store, first operation: MLflow migrates", lambda: first_operation("fresh"))
    seeded = b.median("new store, first operation: seeded copy", lambda: first_operation("seeded"))
    b.ratio("seeded / migrated", seeded, migrated)

    def stage(project: Path) -> float:
        nonlocal count
        count += 1
        env = {"MLFLOW_TRACKING_URI": f"sqlite:///{b.work}/stage-{count}.db", "MLFLOW_EXPERIMENT_NAME": "b"}
        cmd = [*PYTHON, "-m", "my_model.stages.train", "data/processed/train.csv", str(b.work / "t.json")]
        env |= {"PYTHONPYCACHEPREFIX": str(project / ".nox" / "pycache"), "PYTHONDONTWRITEBYTECODE": ""}
        return timed(cmd, project, env)

    def tests(project: Path) -> float:
        return timed(["uvx", "nox", "-s", "tests"], project)

    for name, one in (("train stage on a new store", stage), ("`nox -s tests`", tests)):
        samples: dict[Path, list[float]] = {now: [], before: []}
        for _ in range(args.runs):
            for project in (before, now):  # alternating: both see the same machine load
                samples[project].append(one(project))
        old = b.record(f"{name}: {args.baseline_ref}", samples[before])
        new = b.record(f"{name}: working tree", samples[now])
        b.ratio(f"{name}: working tree / {args.baseline_ref}", new, old)


if __name__ == "__main__":
    main()
