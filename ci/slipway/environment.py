"""Install a project's locked dependencies for a nox session.

With uv (the normal case) every session that runs project code shares the project's own `.venv`,
synced with all dependency groups from `uv.lock` (`uv sync --frozen`: no resolve, hardlinks from
uv's cache). One environment means one install and one bytecode cache: `import mlflow` compiles
once, not once per session. The bytecode goes to `.nox/pycache` (PYTHONPYCACHEPREFIX), so source
trees stay clean even where PYTHONDONTWRITEBYTECODE is set. Without uv, each session gets its own
virtualenv and pip installs the project and the groups it needs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import nox
import nox.virtualenv

PROJECT_ENV = Path(".venv")  # the environment `uv run` and editors use too
PYCACHE = Path(".nox") / "pycache"


def uv_bin() -> str | None:
    has_uv, found, _ = nox.virtualenv.find_uv()
    return found if has_uv else None


def shares_project_env() -> bool:
    """Whether project sessions run in the shared `.venv` (needs uv) rather than their own venv."""
    return uv_bin() is not None


def _use_project_env(session: nox.Session, uv: str) -> None:
    env_dir = PROJECT_ENV.resolve()
    session.run_install(
        uv, "sync", "--frozen", "--all-groups", "--quiet",
        env={"UV_PROJECT_ENVIRONMENT": str(env_dir)},
        external=True,
    )  # fmt: skip
    session.env.update(bytecode_cache())


def bytecode_cache() -> dict[str, str]:
    """Environment that keeps compiled bytecode in `.nox/pycache`, even where the machine sets
    PYTHONDONTWRITEBYTECODE (an empty value unsets it), so each module compiles once per project."""
    return {"PYTHONPYCACHEPREFIX": str(PYCACHE.resolve()), "PYTHONDONTWRITEBYTECODE": ""}


def sync(session: nox.Session, *groups: str, project: bool = True) -> None:
    """Make the groups (and the project itself unless `project=False`) available, as uv.lock pins them."""
    uv = uv_bin()
    if uv is not None and project:
        _use_project_env(session, uv)
        return
    if uv is None:
        if project:
            session.install("-e", ".")
        for group in groups:
            session.install("--group", group)
        return
    args = [uv, "sync", "--frozen", *[arg for group in groups for arg in ("--only-group", group)]]
    session.run_install(
        *args,
        "--quiet",
        env={"UV_PROJECT_ENVIRONMENT": str(session.virtualenv.location)},
        external=True,
    )


def run(session: nox.Session, *args: str, **kwargs: Any) -> Any:
    """Run a command where `sync` installed things: `uv run` in the shared project env, else the venv."""
    uv = uv_bin()
    if uv is None:
        return session.run(*args, **kwargs)
    env = {"UV_PROJECT_ENVIRONMENT": str(PROJECT_ENV.resolve()), **kwargs.pop("env", {})}
    return session.run(uv, "run", "--frozen", "--no-sync", "--quiet", *args, env=env, external=True, **kwargs)
