"""The shared nox sessions: thin wrappers that prepare an environment and call one tool or gate.

Session names are a public contract (CI workflows and READMEs call them). A project calls
`register()` from its noxfile; `skip=` leaves names free for the project's own definitions.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import nox

from slipway import session_inputs, verdicts
from slipway.config import ConfigError, ProjectConfig, load_monitor, load_project, tracking_uri
from slipway.environment import PROJECT_ENV, bytecode_cache, run, shares_project_env, sync, uv_bin
from slipway.report import site

SessionFunc = Callable[[nox.Session], None]
LOCAL_EVALUATE = "evaluate-local-store"  # evaluate's verdicts keyed in nox's process (SQLite stores)


def _config(session: nox.Session) -> ProjectConfig:
    try:
        return load_project()
    except ConfigError as exc:
        session.error(str(exc))


def _skip_if_cached(session: nox.Session, inputs: verdicts.Inputs | None) -> str | None:
    """The key of this run's inputs; skips the session when its last pass had the same key."""
    if inputs is None:  # outside git: no list of sources, no cache
        return None
    current = verdicts.key(inputs, Path.cwd())
    if verdicts.cached(Path.cwd(), session.name, current):
        session.skip(verdicts.skipped_message(current))
    return current


def _passed(session: nox.Session, current: str | None) -> None:
    """Remember the pass under the key its inputs had when the session started."""
    if current is not None:
        verdicts.record(Path.cwd(), session.name, current)


def _env_dir(session: nox.Session) -> Path:
    """Where the session's tools are installed: the shared project env, or its own venv."""
    return PROJECT_ENV if shares_project_env() else Path(session.virtualenv.location)


def lint(session: nox.Session) -> None:
    """pre-commit on every file: ruff, spelling, Markdown, file hygiene, notebooks, DVC, params, workflows.

    Hook environments live in PRE_COMMIT_HOME (default ~/.cache/pre-commit), shared by every run.
    Files not committed yet are checked too, so a fresh copy is judged before its first commit.
    `nox -s lint -- HOOK_ID` runs one hook.
    """
    _config(session)  # a broken [tool.slipway] fails here, in one line
    sync(session, "lint", project=False)
    git_ls = ("git", "ls-files", "-z")
    listing = session.run(
        *git_ls, "--others", "--exclude-standard", silent=True, external=True, success_codes=[0, 128]
    )
    others = str(listing or "")
    if others.startswith("fatal:"):
        session.error("lint runs pre-commit, which needs a git repository: run `git init` here first")
    untracked = [name for name in others.split("\0") if name]
    current = _skip_if_cached(session, session_inputs.lint(Path.cwd(), session.posargs))
    # nox points uv at the session venv (UV_PYTHON, UV_PROJECT_ENVIRONMENT): unset them, or
    # pre-commit-uv installs every hook into this venv, and the next `uv sync` deletes them again.
    # Hooks are Python processes too: their bytecode is kept with the project's.
    env: dict[str, str | None] = {"UV_PYTHON": None, "UV_PROJECT_ENVIRONMENT": None, **bytecode_cache()}
    if not untracked:
        session.run("pre-commit", "run", *session.posargs, "--all-files", "--show-diff-on-failure", env=env)
        _passed(session, current)
        return
    # `pre-commit run --all-files` sees only git's index: hand it tracked and untracked files alike.
    tracked = str(session.run(*git_ls, silent=True, external=True) or "").split("\0")
    files = sorted({name for name in tracked if name} | set(untracked))
    session.log(f"{len(untracked)} files are not committed yet: checking them with the committed ones")
    session.run("pre-commit", "run", *session.posargs, "--show-diff-on-failure", "--files", *files, env=env)
    _passed(session, current)


def typecheck(session: nox.Session) -> None:
    """mypy, strict, over the paths in [tool.slipway] typecheck_paths."""
    paths = _config(session).typecheck_paths
    sync(session, "typecheck")
    current = _skip_if_cached(session, session_inputs.typecheck(Path.cwd(), paths, _env_dir(session)))
    run(session, "mypy", *paths)  # its own cache, .mypy_cache, makes a re-check after an edit quick
    _passed(session, current)


def tests(session: nox.Session) -> None:
    """pytest with branch coverage of the model package; fails below coverage_floor."""
    config = _config(session)
    sync(session, "test")
    current = _skip_if_cached(session, session_inputs.tests(Path.cwd(), session.posargs, _env_dir(session)))
    run(
        session,
        "pytest",
        f"--cov={config.package}",
        "--cov-report=term-missing:skip-covered",
        f"--cov-fail-under={config.coverage_floor}",
        *session.posargs,
    )
    _passed(session, current)


def _tracking(session: nox.Session, config: ProjectConfig) -> None:
    """Point MLflow at the project's store and quiet the tools, for the pipeline and the gates."""
    session.env.update(
        {
            "MLFLOW_TRACKING_URI": tracking_uri(config, Path.cwd()),
            "MLFLOW_EXPERIMENT_NAME": config.model_name,
            "MLFLOW_DISABLE_TELEMETRY": "true",
            "MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT": "true",
            # models list their pip requirements; a copy of uv.lock (~1 MB) in every model is waste
            "MLFLOW_LOG_UV_FILES": "false",
            # slipway loads models itself (skops, the project's trusted types); MLflow's loaders may not
            "MLFLOW_ALLOW_PICKLE_DESERIALIZATION": "false",
            "DVC_NO_ANALYTICS": "1",
        }
    )


def _missing_tracked_data() -> list[str]:
    """Outputs of `.dvc` files that are absent from the workspace (a fresh clone, say)."""
    outs = session_inputs.dvc_pointer_outs(Path().glob("data/**/*.dvc"))
    return [str(out) for out in outs if not out.exists()]


def train(session: nox.Session) -> None:
    """`dvc repro`: validate the data contract, featurize, train (MLflow run), evaluate on holdout.

    Pulls tracked data first when the workspace lacks it. Unchanged stages are skipped.
    """
    config = _config(session)
    sync(session, "pipeline")
    _tracking(session, config)
    missing = _missing_tracked_data()
    if missing:
        session.log(f"{', '.join(missing)} not in the workspace: pulling from the DVC remote")
        # Outputs nobody pushed yet (data pushed before any train) are the repro's to make, not errors.
        run(session, "slipway", "data", "pull", "--quiet", "--allow-missing")  # failures: one line
        still = _missing_tracked_data()
        if still:
            session.error(
                f"{', '.join(still)} is not in the DVC remote either: `nox -s data-push` where it is"
            )
    run(session, "dvc", "repro", *session.posargs)


def _gate(command: str, *, groups: tuple[str, ...] = (), args: tuple[str, ...] = ()) -> SessionFunc:
    """A session running `slipway COMMAND ARGS`; `groups` are installed besides the project's own."""

    def gate(session: nox.Session) -> None:
        config = _config(session)
        sync(session, *groups)
        _tracking(session, config)
        run(session, "slipway", command, *args, *session.posargs)

    return gate


def evaluate(session: nox.Session) -> None:
    """Gate: thresholds and a paired bootstrap against the champion; passing -> alias challenger.

    With a local SQLite store, an unchanged candidate, tables, settings and store skip the gate here,
    without starting Python; else `slipway evaluate` checks its own key against the registry's record.
    """
    config = _config(session)
    sync(session)
    _tracking(session, config)
    root, uri = Path.cwd(), str(session.env["MLFLOW_TRACKING_URI"])
    before = session_inputs.evaluate(root, uri, session.posargs)
    if before is not None and verdicts.cached(root, LOCAL_EVALUATE, before.full):
        # a log line, not session.skip(): nox would abort `deploy`, which requires this session
        cached = verdicts.skipped_message(before.full)
        session.log(f"evaluate: skipped, {cached}: the tracking store is as it was after that pass")
        return
    run(session, "slipway", "evaluate", *session.posargs)
    after = session_inputs.evaluate(root, uri, session.posargs)
    # recorded with the store as the gate left it, if nothing it reads changed meanwhile
    if before is not None and after is not None and before.judged == after.judged:
        verdicts.record(root, LOCAL_EVALUATE, after.full)


def _data(command: str) -> SessionFunc:
    def data(session: nox.Session) -> None:
        _config(session)
        sync(session, "pipeline")
        session.env["DVC_NO_ANALYTICS"] = "1"
        run(session, "slipway", "data", command, *session.posargs)  # `dvc COMMAND`, failures in one line

    return data


def data_adopt(session: nox.Session) -> None:
    """Make a CSV or Parquet table the project's data: `-- PATH --target COLUMN [--task TASK]`.

    On a clean git tree: checks the table (a bad one changes nothing), copies it into data/raw/,
    infers contract.yaml, repoints params.yaml, swaps the DVC-tracked data and prints each change.
    """
    _config(session)
    if not session.posargs:
        session.error("data-adopt needs a table: `nox -s data-adopt -- PATH --target COLUMN`")
    dirty = _git_lines(session, "status", "--porcelain")
    if dirty:
        session.error(
            f"data-adopt needs a clean git tree, {len(dirty)} paths are changed or untracked: "
            "commit or stash them first, so the change is one reviewable diff"
        )
    sync(session)
    session.env["DVC_NO_ANALYTICS"] = "1"
    run(session, "slipway", "adopt", *session.posargs)
    session.log("adopted: review `git diff` (contract.yaml above all), run `uvx nox`, then commit")


def docs(session: nox.Session) -> None:
    """Build the docs site into site/ (MkDocs, strict): README, gate report, model card, drift report."""
    _config(session)
    if not Path("mkdocs.yml").is_file():
        session.error("docs needs mkdocs.yml, which this project lacks: `nox -s template-update` adds it")
    sync(session, "docs", project=False)  # its own venv: MkDocs and the theme are needed nowhere else
    try:
        monitor_dir = load_monitor().report_dir  # the drift report is staged from where monitor writes it
    except ConfigError as exc:
        session.error(str(exc))
    for page in site.stage(Path.cwd(), monitor_dir):
        session.log(f"{page.title}: {page.source} is not written yet, the site says what writes it")
    # MkDocs' bytecode is kept with the project's; Material's banner about MkDocs 2 says nothing here.
    env = {**bytecode_cache(), "NO_MKDOCS_2_WARNING": "1"}
    session.run("mkdocs", "build", "--strict", *session.posargs, env=env)
    session.log("site/index.html: open it in a browser")


COPIER = "copier==9.19.1"  # the copier `template-update` runs (uvx), whatever is installed
CONFLICT_MARKERS = (b"<<<<<<< ", b">>>>>>> ")


def _git_lines(session: nox.Session, *args: str) -> list[str]:
    out = session.run("git", *args, silent=True, external=True, success_codes=[0, 128])
    text = str(out or "")
    if text.startswith("fatal:"):
        session.error("this session needs the project's git repository: run it from the project root")
    return [line for line in text.splitlines() if line.strip()]


def _conflicted(session: nox.Session) -> list[str]:
    """Files the update left with conflict markers, and any `.rej` files."""
    found = set()
    for line in _git_lines(session, "status", "--porcelain", "--untracked-files=all", "--ignored"):
        path = line[3:].strip('"')
        if path.endswith(".rej"):
            found.add(path)
        elif not line.startswith("!!") and Path(path).is_file():
            lines = Path(path).read_bytes().splitlines()
            if any(raw.startswith(CONFLICT_MARKERS) for raw in lines):
                found.add(path)
    return sorted(found)


def template_update(session: nox.Session) -> None:
    """`copier update` to the newest template release; fails listing files left with conflict markers.

    Refuses on a dirty git tree. Posargs go to copier: `-- --vcs-ref v0.3.0`, `-- --data dvc_remote=...`.
    Copy-time tasks are skipped (data, git and lock exist already); uv.lock is re-locked afterwards.
    """
    dirty = _git_lines(session, "status", "--porcelain")
    if dirty:
        session.error(
            f"template-update needs a clean git tree, {len(dirty)} paths are changed or untracked: "
            "commit or stash them first"
        )
    session.run(
        "uvx", "--from", COPIER, "copier", "update", "--trust", "--defaults", "--skip-tasks",
        "--conflict", "inline", *session.posargs,
        external=True,
    )  # fmt: skip
    conflicted = _conflicted(session)
    if conflicted:
        session.error(
            f"template-update left conflicts in {', '.join(conflicted)}: resolve the <<<<<<< blocks "
            "(and .rej files), then `git add` and commit"
        )
    uv = uv_bin()
    if uv is not None:
        session.run(uv, "lock", "--quiet", external=True)  # the merged pyproject.toml decides uv.lock
    changed = _git_lines(session, "status", "--porcelain")
    session.log(f"updated, {len(changed)} paths changed: review `git diff`, run `uvx nox`, then commit")


@dataclass(frozen=True)
class Spec:
    """How a shared session is registered, and the one line the READMEs' session tables show."""

    func: SessionFunc
    doc: str  # what `nox -l` prints
    summary: str  # the README row (`python -m slipway.session_table` writes it): one line, Markdown
    default: bool = False  # runs when `nox` is called without -s
    requires: list[str] = field(default_factory=list)
    own_venv: bool = False  # True: its own virtualenv, not the shared project environment


# Order matters to plain `nox`: sessions start in this order on free cores, so the longest chain
# (train -> evaluate) starts first and the checks fill the other core around it. `tests` comes
# after `lint`: by then the pipeline has compiled the bytecode both import (pandas, sklearn, mlflow).
SESSIONS: dict[str, Spec] = {
    "train": Spec(
        train,
        train.__doc__ or "",
        "`dvc repro`: validate the data contract, featurize, train (an MLflow run), score the holdout; "
        "pulls missing data first",
        default=True,
    ),
    "typecheck": Spec(
        typecheck,
        typecheck.__doc__ or "",
        "mypy in strict mode over `typecheck_paths` (`src/` and `tests/`)",
        default=True,
    ),
    "lint": Spec(
        lint,
        lint.__doc__ or "",
        "pre-commit on every file: ruff, spelling, Markdown format, file hygiene, data-in-DVC, params, "
        "stage deps, tracking URIs, workflows (`-- HOOK_ID` runs one hook)",
        default=True,
        own_venv=True,
    ),
    "tests": Spec(
        tests,
        tests.__doc__ or "",
        "pytest with branch coverage of the model package, failing below `coverage_floor`",
        default=True,
    ),
    "evaluate": Spec(
        evaluate,
        "Gate: thresholds and a paired bootstrap against the champion; passing -> alias challenger.",
        "the gate: any thresholds, then a paired bootstrap against the naive baseline and the `champion` "
        "on the same holdout; a pass makes the candidate a new model version, aliased `challenger`; "
        "writes the gate report",
        default=True,
        requires=["train"],
    ),
    "deploy": Spec(
        _gate("deploy", groups=("serve",), args=("--smoke",)),
        "Smoke-test this commit's passing challenger, then promote it to champion (with a promotion record).",
        "smoke-tests this commit's passing `challenger`, then makes it `champion` with a promotion record "
        "(who, when, what) and a model card; runs `train` and `evaluate` first",
        requires=["evaluate"],
    ),
    "rollback": Spec(
        _gate("rollback"),
        "Point champion back at the previous one (-- --to VERSION).",
        "points `champion` back at the previous one (`-- --to VERSION` picks one) and restores its "
        "model card",
    ),
    "history": Spec(
        _gate("history"),
        "List promotions and rollbacks of the registered model.",
        "every promotion and rollback, with each champion's model card",
    ),
    "serve": Spec(
        _gate("serve", groups=("serve",)),
        "Serve the champion on 127.0.0.1 (-- --port PORT).",
        "serves the `champion` on 127.0.0.1 until Ctrl-C (`-- --port PORT`)",
    ),
    "monitor": Spec(
        _gate("monitor"),
        "Check a batch for drift from the training data (-- BATCH.csv).",
        "has a batch drifted from the training data? (`-- BATCH.csv`); fails if so, writes the drift report",
    ),
    "data-pull": Spec(
        _data("pull"),
        "Fetch DVC-tracked data from the remote.",
        "`dvc pull`: DVC-tracked data from the remote in `.dvc/config`",
    ),
    "data-push": Spec(
        _data("push"),
        "Send DVC-tracked data and pipeline outputs to the remote.",
        "`dvc push`: DVC-tracked data and pipeline outputs to the remote in `.dvc/config`",
    ),
    "data-adopt": Spec(
        data_adopt,
        data_adopt.__doc__ or "",
        "makes another CSV or Parquet table the project's data (`-- PATH --target COLUMN`), on a clean "
        "git tree",
    ),
    "docs": Spec(
        docs,
        docs.__doc__ or "",
        "builds the docs site into `site/` (MkDocs, strict): the README, the gate report, the model card, "
        "the drift report",
        own_venv=True,
    ),
    "template-update": Spec(
        template_update,
        template_update.__doc__ or "",
        "`copier update` to the newest template release (`-- --vcs-ref vX.Y.Z` picks one), on a clean git "
        "tree; fails naming files left with conflicts",
    ),
}


def register(*, skip: Iterable[str] = ()) -> list[str]:
    """Register the shared sessions with nox, except those named in `skip`; returns the names."""
    skipped = set(skip)
    unknown = skipped - set(SESSIONS)
    if unknown:
        raise ValueError(f"register(skip=...): no shared session named {sorted(unknown)[0]!r}")
    nox.options.default_venv_backend = "uv|virtualenv"
    nox.options.reuse_venv = "yes"
    # Plain `nox` uses every core: the pipeline (train -> evaluate) runs beside lint, typecheck and
    # tests; nox buffers each session's log and prints it whole, failures listed at the end.
    # `nox -j 1` runs strictly one after another.
    nox.options.parallel = nox.options.parallel or os.cpu_count() or 1
    registered = []
    for name, spec in SESSIONS.items():
        if name in skipped:
            continue
        spec.func.__doc__ = spec.doc
        backend = None if spec.own_venv or not shares_project_env() else "none"
        nox.session(
            name=name,
            default=spec.default,
            requires=spec.requires,
            venv_backend=backend,
            # the default gates may overlap; registry moves (deploy, rollback) never do
            allow_parallel=spec.default,
        )(spec.func)
        registered.append(name)
    return registered
