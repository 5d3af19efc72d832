"""slipway's own gates: lint, typecheck, and the test suite that renders and runs real projects."""

import nox

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.reuse_venv = "yes"


def _sync(session: nox.Session, *args: str) -> None:
    """Install what uv.lock pins into the session's venv (fast: hardlinks from uv's cache)."""
    session.run_install(
        "uv",
        "sync",
        "--frozen",
        "--quiet",
        *args,
        env={"UV_PROJECT_ENVIRONMENT": str(session.virtualenv.location)},
        external=True,
    )


@nox.session
def lint(session: nox.Session) -> None:
    """Ruff lint rules and formatting; the READMEs' session tables against slipway.sessions.SESSIONS."""
    _sync(session, "--only-group", "lint")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    readmes = ("README.md", "template/README.md.jinja")
    table = ("python", "-m", "slipway.session_table", "--check", *readmes)
    session.run("uv", "run", "--frozen", *table, external=True)  # slipway itself, from the repo's env


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict over ci/slipway and hooks/, and (a little relaxed) tests/ and benchmarks/."""
    _sync(session, "--no-default-groups", "--group", "typecheck")
    session.run("mypy")


@nox.session
def tests(session: nox.Session) -> None:
    """The full suite (renders projects and runs their gates)."""
    session.run("uv", "run", "pytest", *session.posargs, external=True)
