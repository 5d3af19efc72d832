"""Slipway's speed harness: medians of repeated, real runs, with ratios against a baseline in the same run.

Usage: uv run python benchmarks/run.py [--runs N] [--only NAME ...] [--suite]
  render     copier copy without tasks / with tasks (git init, example data + dvc add, uv lock)
  gates      fresh projects (warm package cache): the copy, then `uvx nox` (every default gate
             green) against the same sessions strictly one after another (`nox -j 1`): the ratio
             is the figure; copy -> green; a warm re-run of both
  train      cold `nox -s train` in a fresh project; no-op `nox -R -s train` afterwards
  tracking   the train stage with MLflow tracking vs the same fit without it; the evaluate gate
  report     `slipway evaluate` with its gate report (reports/gate/) against `--no-report`, on a
             default project whose candidate differs from the champion: the ratio is the figure
  update     `copier update` of a default project between release tags (tests/releases.py), as
             `nox -s template-update` runs it; the session itself; from the previous release
  own-data   first green of the default project at --baseline-ref against now (ratio), first
             green on a 10,000-row mixed-type table, `nox -s data-adopt` of it and the `nox` after
  loop       the inner loop, the template at --baseline-ref beside now (alternating): fresh `nox`,
             a warm re-run with nothing changed, a one-line change in model.py; ratios to fresh
  suite      this repository's whole test suite (`uv run pytest`), once (--suite)
Each figure is the median of --runs runs (default 5). Nothing here asserts a time.
The fast-gates figures in one run: --only gates train suite
--smoke: one run of `render` without tasks (or of the --only names), so the suite proves the harness runs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import copier
from slipway.sessions import COPIER

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.conftest import commit_all, render_project, snapshot_working_tree  # noqa: E402
from tests.releases import next_release, release_history  # noqa: E402

Timer = Callable[[], float]


def timed(
    cmd: list[str], cwd: Path, env: dict[str, str] | None = None, codes: tuple[int, ...] = (0,)
) -> float:
    start = time.perf_counter()
    result = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env={**os.environ, **(env or {})})
    elapsed = time.perf_counter() - start
    if result.returncode not in codes:
        raise SystemExit(
            f"{' '.join(cmd)} failed in {cwd}:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        )
    return elapsed


class Bench:
    def __init__(self, runs: int) -> None:
        self.runs = runs
        self.work = Path(tempfile.mkdtemp(prefix="slipway-bench-"))
        self.template = snapshot_working_tree(self.work / "template")
        self.count = 0
        self.rows: list[tuple[str, float, str]] = []
        self.baseline_ref = "HEAD"
        self.smoke = False  # --smoke: the cheapest path through each scenario

    def fresh(self, *, tasks: bool = True, **data: str) -> Path:
        self.count += 1
        return render_project(self.template, self.work / f"p{self.count}", tasks=tasks, **data)

    def median(self, name: str, one: Timer, note: str = "") -> float:
        return self.record(name, [one() for _ in range(self.runs)], note)

    def record(self, name: str, samples: list[float], note: str = "") -> float:
        value = statistics.median(samples)
        spread = f"min {min(samples):.2f} max {max(samples):.2f}"
        self.rows.append((name, value, f"{spread}{'; ' + note if note else ''}"))
        print(f"{name:<44} {value:8.2f} s   ({spread}) {note}", flush=True)
        return value

    def figure(self, name: str, value: float, note: str = "") -> None:
        """A figure measured once or derived from medians, printed like the medians."""
        self.rows.append((name, value, note))
        print(f"{name:<44} {value:8.2f} s   {f'({note})' if note else ''}", flush=True)

    def ratio(self, name: str, value: float, baseline: float) -> None:
        self.rows.append((name, value / baseline, "ratio"))
        print(f"{name:<44} {value / baseline:8.2f} x", flush=True)


def render(b: Bench) -> None:
    def copy(tasks: bool) -> float:
        start = time.perf_counter()
        b.fresh(tasks=tasks)
        return time.perf_counter() - start

    b.median("render (copy without tasks)", lambda: copy(False))
    if not b.smoke:  # the copy task's `uv lock` alone takes ~25 s
        b.median("copy with tasks", lambda: copy(True))


def gates(b: Bench) -> None:
    """Each run copies two fresh projects and runs `nox` in one, `nox -j 1` in the other, alternating."""
    copies: list[float] = []
    runs: dict[str, list[float]] = {"parallel": [], "sequential": []}
    for _ in range(b.runs):
        for mode, args in (("parallel", ()), ("sequential", ("-j", "1"))):
            start = time.perf_counter()
            project = b.fresh()
            copies.append(time.perf_counter() - start)
            runs[mode].append(timed(["uvx", "nox", *args], project))
    copy = b.record("copy (with tasks), per fresh project", copies)
    parallel = b.record("fresh project: `nox` (default gates green)", runs["parallel"])
    sequential = b.record("fresh project: `nox -j 1` (same, sequential)", runs["sequential"])
    b.ratio("sequential / default", sequential, parallel)
    b.figure("copy -> default gates green", copy + parallel, "sum of the medians above")
    project = b.fresh()
    timed(["uvx", "nox"], project)
    warm = b.median("warm `nox` re-run, nothing changed", lambda: timed(["uvx", "nox"], project))
    warm_seq = b.median(
        "warm re-run, sequential (nox -j 1)", lambda: timed(["uvx", "nox", "-j", "1"], project)
    )
    b.ratio("warm sequential / default", warm_seq, warm)


def train(b: Bench) -> None:
    projects: list[Path] = []

    def cold() -> float:
        project = b.fresh()
        projects.append(project)
        return timed(["uvx", "nox", "-s", "train"], project)

    b.median("cold `nox -s train` (fresh project)", cold)
    b.median("no-op `nox -R -s train`", lambda: timed(["uvx", "nox", "-R", "-s", "train"], projects[-1]))
    b.median("no-op `nox -s train` (with sync)", lambda: timed(["uvx", "nox", "-s", "train"], projects[-1]))


FIT_ONLY = """
from pathlib import Path
from {pkg}.contract import load_contract
from {pkg}.data import load_table, split_features
from {pkg}.model import build_model
from {pkg}.params import load_params
contract = load_contract()
x, y = split_features(load_table(Path('data/processed/train.csv')), contract)
model = build_model(load_params().model, contract).fit(x, y)
"""


def tracking(b: Bench) -> None:
    project = b.fresh()
    timed(["uvx", "nox", "-s", "train"], project)
    env = {"PYTHONPYCACHEPREFIX": str(project / ".nox" / "pycache"), "PYTHONDONTWRITEBYTECODE": ""}
    uv_run = ["uv", "run", "--frozen", "--no-sync", "python"]
    stage = [
        *uv_run,
        "-m",
        "my_model.stages.train",
        "data/processed/train.csv",
        "/tmp/slipway-bench-train.json",
    ]
    with_mlflow = b.median("train stage with MLflow tracking", lambda: timed(stage, project, env))
    without = b.median(
        "same fit without tracking",
        lambda: timed([*uv_run, "-c", FIT_ONLY.format(pkg="my_model")], project, env),
    )
    b.figure("tracking overhead per pipeline run", with_mlflow - without, "difference of medians")
    b.median(
        "evaluate gate (`nox -R -s evaluate`)", lambda: timed(["uvx", "nox", "-R", "-s", "evaluate"], project)
    )


def report(b: Bench) -> None:
    """The gate itself (as `nox -R -s evaluate` runs it), with and without its report, alternating.

    A champion first (`nox -s deploy`), then a different candidate, so the report draws everything
    (confusion matrices and curves of both models); --verdict-only keeps the registry unchanged
    between runs, so every run does the same work. The smaller forest may be blocked (exit 1): a
    blocked gate writes the same report.
    """
    project = b.fresh()
    timed(["uvx", "nox", "-s", "deploy"], project)
    params = project / "params.yaml"
    params.write_text(params.read_text().replace("n_estimators: 200", "n_estimators: 50"))
    timed(["uvx", "nox", "-s", "train"], project)
    env = {"PYTHONPYCACHEPREFIX": str(project / ".nox" / "pycache"), "PYTHONDONTWRITEBYTECODE": ""}
    gate = [str(project / ".venv" / "bin" / "slipway"), "evaluate", "--verdict-only"]
    timed(gate, project, env, (0, 1))  # compiles matplotlib's bytecode once, as any earlier run would
    runs: dict[str, list[float]] = {"with": [], "without": []}
    for _ in range(b.runs):
        runs["with"].append(timed(gate, project, env, (0, 1)))
        runs["without"].append(timed([*gate, "--no-report"], project, env, (0, 1)))
    if not (project / "reports" / "gate" / "report.html").is_file():
        raise SystemExit("slipway evaluate wrote no reports/gate/report.html")
    with_report = b.record("`slipway evaluate` with the gate report", runs["with"])
    without = b.record("`slipway evaluate --no-report`", runs["without"])
    b.ratio("with report / without", with_report, without)
    b.figure("time the report adds", with_report - without, "difference of medians")


COPIER_UPDATE = [
    *("uvx", "--from", COPIER, "copier", "update", "--trust", "--defaults"),
    *("--skip-tasks", "--conflict", "inline"),
]  # what `nox -s template-update` runs


def update(b: Bench) -> None:
    """`copier update` between real releases: the working tree (vX.Y.Z) -> one more commit, tagged."""
    releases = release_history(b.work / "releases")
    major, minor, patch = releases.new.removeprefix("v").split(".")
    newer = next_release(releases, f"v{major}.{minor}.{int(patch) + 1}")

    def project(tag: str) -> Path:
        b.count += 1
        dest = b.work / f"p{b.count}"
        copier.run_copy(str(releases.repo), str(dest), defaults=True, unsafe=True, vcs_ref=tag, quiet=True)
        commit_all(dest, "rendered")
        return dest

    def reset(dest: Path) -> None:  # back to the committed project, for the next run
        subprocess.run(["git", "reset", "--quiet", "--hard"], cwd=dest, check=True)
        subprocess.run(["git", "clean", "-fdq"], cwd=dest, check=True)

    def once(dest: Path, tag: str, cmd: list[str]) -> float:
        elapsed = timed([*cmd, "--vcs-ref", tag], dest)
        reset(dest)
        return elapsed

    recent = project(releases.new)
    once(recent, newer, COPIER_UPDATE)  # warm uvx's copier
    b.median(
        f"copier update {releases.new} -> next (default project)", lambda: once(recent, newer, COPIER_UPDATE)
    )
    session = ["uvx", "nox", "-s", "template-update", "--"]
    once(recent, newer, session)  # warm nox's script-mode env
    b.median("`nox -s template-update` (update + uv lock)", lambda: once(recent, newer, session))
    older = project(releases.old)
    b.median(
        f"copier update {releases.old} -> {releases.new} (migrations)",
        lambda: once(older, releases.new, COPIER_UPDATE),
    )


def template_at(b: Bench, ref: str) -> Path:
    """A clone of this repository at `ref`, to render the baseline from in the same run."""
    dest = b.work / f"template-{ref}"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(dest)], check=True)
    subprocess.run(["git", "checkout", "--quiet", ref], cwd=dest, check=True)
    return dest


def own_data(b: Bench) -> None:
    """First green (copy, then `nox`) of the default project at --baseline-ref and now, alternating;
    then the same for a 10,000-row mixed-type table, and `data-adopt` of it into a default project."""
    from tests.tables import mixed_table, write

    baseline = template_at(b, b.baseline_ref)
    firsts: dict[str, list[float]] = {"baseline": [], "now": []}
    for _ in range(b.runs):
        for name, template in (("baseline", baseline), ("now", b.template)):
            b.count += 1
            start = time.perf_counter()
            project = render_project(template, b.work / f"p{b.count}")
            timed(["uvx", "nox"], project)
            firsts[name].append(time.perf_counter() - start)
    before = b.record(f"first green, default project at {b.baseline_ref}", firsts["baseline"])
    after = b.record("first green, default project now", firsts["now"])
    b.ratio("now / baseline", after, before)
    table = write(mixed_table("3-class", rows=10_000, seed=7), b.work / "tables" / "customers.csv")

    def first_green_on_table() -> float:
        start = time.perf_counter()
        project = b.fresh(data_path=str(table), target="target")
        timed(["uvx", "nox"], project)
        return time.perf_counter() - start

    b.median("first green, 10,000-row mixed table (copy + nox)", first_green_on_table)
    project = b.fresh()
    commit_all(project, "rendered")
    adopt = timed(["uvx", "nox", "-s", "data-adopt", "--", str(table), "--target", "target"], project)
    b.figure("`nox -s data-adopt` of that table", adopt, "once")
    commit_all(project, "adopted")  # no file edited by hand: adopt's own changes only
    b.figure("first `nox` after adopting it", timed(["uvx", "nox"], project), "once; 0 files edited")


ONE_LINE = ('SimpleImputer(strategy="median")', 'SimpleImputer(strategy="mean")')  # in model.py


def loop(b: Bench) -> None:
    """Per run and template: copy, `nox` (fresh), `nox` again (nothing changed), then one line of
    model.py changed and `nox`; the ratios to the fresh run are the figures (issue 17)."""
    baseline = template_at(b, b.baseline_ref)
    runs: dict[str, dict[str, list[float]]] = {}
    for _ in range(b.runs):
        for name, template in ((b.baseline_ref, baseline), ("now", b.template)):
            b.count += 1
            project = render_project(template, b.work / f"p{b.count}")
            figures = runs.setdefault(name, {"fresh": [], "warm": [], "edit": []})
            figures["fresh"].append(timed(["uvx", "nox"], project))
            figures["warm"].append(timed(["uvx", "nox"], project))
            model = project / "src" / "my_model" / "model.py"
            text = model.read_text()
            if ONE_LINE[0] not in text:
                raise SystemExit(f"{model} lacks {ONE_LINE[0]}: update ONE_LINE")
            model.write_text(text.replace(*ONE_LINE))
            figures["edit"].append(timed(["uvx", "nox"], project))
    for name, figures in runs.items():
        fresh = b.record(f"{name}: fresh `nox`", figures["fresh"])
        warm = b.record(f"{name}: warm `nox`, nothing changed", figures["warm"])
        edit = b.record(f"{name}: `nox` after one line of model.py", figures["edit"])
        b.ratio(f"{name}: nothing changed / fresh", warm, fresh)
        b.ratio(f"{name}: one-line change / fresh", edit, fresh)


def suite(b: Bench) -> None:
    elapsed = timed(["uv", "run", "pytest", "-q"], ROOT)
    b.figure("toolkit test suite (uv run pytest), once", elapsed)


BENCHES = {
    "render": render,
    "gates": gates,
    "train": train,
    "tracking": tracking,
    "report": report,
    "update": update,
    "own-data": own_data,
    "loop": loop,
    "suite": suite,
}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--only", nargs="*", choices=sorted(BENCHES), default=None)
    parser.add_argument("--suite", action="store_true", help="also time the whole test suite")
    parser.add_argument(
        "--baseline-ref", default="HEAD", help="own-data: the commit whose first green is the baseline"
    )
    parser.add_argument("--smoke", action="store_true", help="one run of `render` (or of --only)")
    args = parser.parse_args()
    names = args.only or [n for n in BENCHES if n != "suite" or args.suite]
    if args.smoke:
        args.runs, names = 1, args.only or ["render"]
    bench = Bench(args.runs)
    bench.baseline_ref = args.baseline_ref
    bench.smoke = args.smoke
    print(f"slipway benchmarks: {args.runs} runs each, {os.cpu_count()} cores, work dir {bench.work}")
    for name in names:
        BENCHES[name](bench)


if __name__ == "__main__":
    main()
