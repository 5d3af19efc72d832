"""The shared nox sessions: thin wrappers that prepare an environment and call one tool or gate.

Session names are a public contract (CI workflows and READMEs call them). A project calls
`register()` from its noxfile; `skip=` leaves names free for the project's own definitions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import nox

from slipway.config import ConfigError, ProjectConfig, load_project
from slipway.environment import sync

SessionFunc = Callable[[nox.Session], None]


def _config(session: nox.Session) -> ProjectConfig:
    try:
        return load_project()
    except ConfigError as exc:
        session.error(str(exc))


def lint(session: nox.Session) -> None:
    """pre-commit on every file: ruff, file hygiene, notebooks, data in DVC, params, workflows.

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
    if not untracked:
        session.run("pre-commit", "run", *session.posargs, "--all-files", "--show-diff-on-failure")
        return
    # `pre-commit run --all-files` sees only git's index: hand it tracked and untracked files alike.
    tracked = str(session.run(*git_ls, silent=True, external=True) or "").split("\0")
    files = sorted({name for name in tracked if name} | set(untracked))
    session.log(f"{len(untracked)} files are not committed yet: checking them with the committed ones")
    session.run("pre-commit", "run", *session.posargs, "--show-diff-on-failure", "--files", *files)


def typecheck(session: nox.Session) -> None:
    """mypy, strict, over the paths in [tool.slipway] typecheck_paths."""
    paths = _config(session).typecheck_paths
    sync(session, "typecheck")
    session.run("mypy", *paths)


def tests(session: nox.Session) -> None:
    """pytest with branch coverage of the model package; fails below coverage_floor."""
    config = _config(session)
    sync(session, "test")
    session.run(
        "pytest",
        f"--cov={config.package}",
        "--cov-report=term-missing:skip-covered",
        f"--cov-fail-under={config.coverage_floor}",
        *session.posargs,
    )


# name -> (function, runs when `nox` is called without -s)
SESSIONS: dict[str, tuple[SessionFunc, bool]] = {
    "lint": (lint, True),
    "typecheck": (typecheck, True),
    "tests": (tests, True),
}


def register(*, skip: Iterable[str] = ()) -> list[str]:
    """Register the shared sessions with nox, except those named in `skip`; returns the names."""
    skipped = set(skip)
    unknown = skipped - set(SESSIONS)
    if unknown:
        raise ValueError(f"register(skip=...): no shared session named {sorted(unknown)[0]!r}")
    nox.options.default_venv_backend = "uv|virtualenv"
    nox.options.reuse_venv = "yes"
    registered = []
    for name, (func, default) in SESSIONS.items():
        if name in skipped:
            continue
        nox.session(name=name, default=default)(func)
        registered.append(name)
    return registered
