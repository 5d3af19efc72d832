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
    """Ruff: lint rules and formatting (check only; `ruff format` fixes)."""
    paths = _config(session).lint_paths
    sync(session, "lint", project=False)
    session.run("ruff", "check", *paths)
    session.run("ruff", "format", "--check", *paths)


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
