"""Install a project's locked dependencies into a nox session's virtualenv.

`uv sync --frozen` into the session venv is the fast path (hardlinks from uv's cache, no resolve);
without uv, pip installs the project and the dependency groups instead.
"""

from __future__ import annotations

import nox
import nox.virtualenv


def _uv() -> str | None:
    has_uv, uv_bin, _ = nox.virtualenv.find_uv()
    return uv_bin if has_uv else None


def sync(session: nox.Session, *groups: str, project: bool = True) -> None:
    """Install the groups (and the project itself unless `project=False`) as uv.lock pins them."""
    uv_bin = _uv()
    if uv_bin is None:
        if project:
            session.install("-e", ".")
        for group in groups:
            session.install("--group", group)
        return
    if project:
        args = [uv_bin, "sync", "--frozen", "--no-default-groups"]
        args += [arg for group in groups for arg in ("--group", group)]
    else:
        args = [uv_bin, "sync", "--frozen"]
        args += [arg for group in groups for arg in ("--only-group", group)]
    session.run_install(
        *args,
        "--quiet",
        env={"UV_PROJECT_ENVIRONMENT": str(session.virtualenv.location)},
        external=True,
    )
