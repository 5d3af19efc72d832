"""New MLflow SQLite stores: seeded from slipway's cache (slipway.store_seed) against MLflow's migrations.

Usage: uv run python benchmarks/store.py [--runs N] [--baseline-ref REF]
  open    a new store's first operation, each in a fresh process of a default project's Python:
          MLflow replaying its migrations vs `seed()` then the same operation (ratio in the same run)
  build   the one-time cache build (per machine and MLflow schema)
  stage   the train stage (`python -m my_model.stages.train`) on a new store: a project rendered at
          --baseline-ref vs one from the working tree, alternating
  tests   `uvx nox -s tests` (the template's tests, whose stage test makes a store), same two projects
Each figure is the median of --runs runs (default 5), wall time and CPU time (user + system, the
processes' own: what a busy machine does not inflate). Nothing here asserts a time.

Measured (`uv run python benchmarks/store.py --runs 3 --baseline-ref cedb970`, 2 cores shared with
other jobs, load 5-10): a new store's first operation 5.54 s wall / 2.02 s CPU migrated, 1.38 s /
0.95 s seeded (0.25x wall, 0.47x CPU; the migrations' commits wait on the disk); the one-time build
2.67 s; the train stage on a new store 0.90x CPU; `nox -s tests` 0.97x CPU (wall too noisy there).
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from run import Bench, template_at, timed  # noqa: E402  (benchmarks/run.py)

from tests.conftest import render_project  # noqa: E402

# The first operation on a store, timed inside the process (the import of MLflow is not the store's).
OPEN = """
import sys, time
import mlflow
start, cpu = time.perf_counter(), time.process_time()
if sys.argv[2] == "seeded":
    from slipway.store_seed import seed
    assert seed(sys.argv[1]), "not seeded"
mlflow.MlflowClient(tracking_uri=sys.argv[1]).search_experiments()
print(time.perf_counter() - start, time.process_time() - cpu)
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


Sample = tuple[float, float]  # wall seconds, CPU seconds


def with_cpu(run: Callable[[], float]) -> Sample:
    """Wall seconds of `run` and the CPU seconds of the child processes it waited for."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall = run()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def record(b: Bench, name: str, samples: list[Sample]) -> Sample:
    wall = b.record(f"{name} (wall)", [wall for wall, _ in samples])
    return wall, b.record(f"{name} (CPU)", [cpu for _, cpu in samples])


def ratios(b: Bench, name: str, value: Sample, baseline: Sample) -> None:
    b.ratio(f"{name} (wall)", value[0], baseline[0])
    b.ratio(f"{name} (CPU)", value[1], baseline[1])


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

    def first_operation(kind: str) -> Sample:
        nonlocal count
        count += 1
        wall, cpu = in_project(now, "-c", OPEN, f"sqlite:///{b.work}/open-{count}.db", kind).split()
        return float(wall), float(cpu)

    b.figure("one-time cache build + first seeded open", first_operation("seeded")[0])
    samples: dict[str, list[Sample]] = {"fresh": [], "seeded": []}
    for _ in range(args.runs):
        for kind in samples:  # alternating: both see the same machine load
            samples[kind].append(first_operation(kind))
    migrated = record(b, "new store's first operation, MLflow migrates", samples["fresh"])
    seeded = record(b, "new store's first operation, seeded copy", samples["seeded"])
    ratios(b, "seeded / migrated", seeded, migrated)

    def stage(project: Path) -> Sample:
        nonlocal count
        count += 1
        env = {"MLFLOW_TRACKING_URI": f"sqlite:///{b.work}/stage-{count}.db", "MLFLOW_EXPERIMENT_NAME": "b"}
        env |= {"PYTHONPYCACHEPREFIX": str(project / ".nox" / "pycache"), "PYTHONDONTWRITEBYTECODE": ""}
        cmd = [*PYTHON, "-m", "my_model.stages.train", "data/processed/train.csv", str(b.work / "t.json")]
        return with_cpu(lambda: timed(cmd, project, env))

    def tests(project: Path) -> Sample:
        return with_cpu(lambda: timed(["uvx", "nox", "-s", "tests"], project))

    for name, one in (("train stage on a new store", stage), ("`nox -s tests`", tests)):
        runs: dict[Path, list[Sample]] = {now: [], before: []}
        for _ in range(args.runs):
            for project in (before, now):
                runs[project].append(one(project))
        old = record(b, f"{name}: {args.baseline_ref}", runs[before])
        new = record(b, f"{name}: working tree", runs[now])
        ratios(b, f"{name}: working tree / {args.baseline_ref}", new, old)


if __name__ == "__main__":
    main()
