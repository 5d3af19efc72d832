"""One line for a tracking store slipway cannot use: unreachable, or missing its database driver.

MLflow raises these from deep inside (loading a model, opening a SQL store) as tracebacks; the CLI
turns exactly these into a line naming the store (password masked) and the fix. Light: no imports
of mlflow or requests, the exception's class names say what it is.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

from slipway.redact import redact

# The module SQLAlchemy imports for a URI scheme -> what to add to the project for it.
DRIVERS = {
    "psycopg": "psycopg[binary]",  # postgresql:// and postgresql+psycopg:// (SQLAlchemy 2.1+)
    "psycopg2": "psycopg2-binary",  # postgresql+psycopg2://
    "pg8000": "pg8000",
    "asyncpg": "asyncpg",
    "pymysql": "pymysql",  # mysql+pymysql://
    "MySQLdb": "mysqlclient",  # mysql://
    "pymssql": "pymssql",
    "pyodbc": "pyodbc",  # mssql://
}
# Transport failures: the server is down, refuses, or does not answer in time.
UNREACHABLE = {
    "requests.exceptions.ConnectionError",
    "requests.exceptions.Timeout",
    "urllib3.exceptions.NewConnectionError",
    "urllib3.exceptions.MaxRetryError",
    "builtins.ConnectionError",
    "builtins.TimeoutError",
}
# How MLflow's REST client words a transport failure it re-raises as MlflowException.
MLFLOW_TRANSPORT = re.compile(r"API request to \S+ failed with exception")
# A database server that is down or unknown (SQLAlchemy's OperationalError also means a locked
# sqlite file or a missing table: only these wordings are "unreachable").
DATABASE_DOWN = re.compile(
    r"connection refused|could not connect|connection failed|can't connect|could not translate host",
    re.IGNORECASE,
)


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _unreachable(exc: BaseException) -> bool:
    names = {f"{cls.__module__}.{cls.__qualname__}" for cls in type(exc).__mro__}
    kind = type(exc).__name__
    return bool(
        names & UNREACHABLE
        or (kind == "MlflowException" and MLFLOW_TRANSPORT.search(str(exc)))
        or (kind == "OperationalError" and DATABASE_DOWN.search(str(exc)))
    )


def current_uri() -> str:
    """The store the command used: MLFLOW_TRACKING_URI (as the sessions set it), else the project's."""
    from slipway.config import ConfigError, load_project, tracking_uri

    try:
        return tracking_uri(load_project(Path("pyproject.toml")), Path.cwd())
    except ConfigError:
        return os.environ.get("MLFLOW_TRACKING_URI", "the tracking store")


def store_failure(exc: BaseException, uri: str | None = None) -> str | None:
    """The one line for an exception that means the tracking store (`uri`, else the project's) cannot
    be used, else None."""
    shown = redact(uri if uri is not None else current_uri())
    chain = list(_chain(exc))
    for link in chain:
        root = (getattr(link, "name", None) or "").split(".")[0]
        if isinstance(link, ModuleNotFoundError) and root in DRIVERS:
            return (
                f"tracking store {shown} needs the database driver {root!r}, which the"
                f" project lacks: add it (`uv add '{DRIVERS[root]}'`) and run again"
            )
    if any(_unreachable(link) for link in chain):
        return (
            f"cannot reach tracking store {shown}: start the server, or set"
            " MLFLOW_TRACKING_URI (or [tool.slipway.mlflow] tracking_uri) to one that is up"
        )
    return None
