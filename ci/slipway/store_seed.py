"""A new local MLflow store starts as a copy of a pristine one: the schema migrations run once per machine.

MLflow builds a new SQLite store by replaying its ~70 schema migrations, seconds for every test and
stage that opens one. The result is the same empty schema each time, so it is built once per MLflow
schema in the user's cache and copied to the new store's path; MLflow then finds its tables at the
head revision, skips the migrations and adds only the Default experiment (with the opener's paths).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import tempfile
import uuid
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path


def cache_dir() -> Path:
    """`$XDG_CACHE_HOME/slipway`, else `~/.cache/slipway`: per user, shared by all their projects."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "slipway"


def sqlite_file(uri: str) -> Path | None:
    """The database file of a `sqlite:///` URI (relative to the cwd, as MLflow reads it), else None."""
    if not uri.startswith("sqlite:///"):
        return None
    path = uri.removeprefix("sqlite:///").split("?", 1)[0]
    return None if path in ("", ":memory:") else Path(path)


@dataclass(frozen=True)
class Schema:
    """What decides an empty store's content: MLflow's version and its set of migration scripts."""

    mlflow_version: str
    migrations: str  # digest of the migration scripts' names: a new migration is a new schema

    @property
    def file_name(self) -> str:
        return f"mlflow-{self.mlflow_version}-{self.migrations}.db"


def current_schema() -> Schema:
    """The schema the installed MLflow builds (a directory listing, not the migrations' import)."""
    import mlflow
    import mlflow.store.db_migrations as migrations

    versions = Path(migrations.__file__).parent / "versions"
    names = sorted(script.name for script in versions.glob("*.py"))
    return Schema(mlflow.__version__, hashlib.sha256("\n".join(names).encode()).hexdigest()[:12])


def healthy(path: Path) -> bool:
    """Whether `path` is an intact SQLite file with one schema revision recorded (a finished build)."""
    if not path.is_file():
        return False
    try:
        with closing(sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)) as db:
            check = db.execute("PRAGMA quick_check").fetchall()
            revisions = db.execute("SELECT version_num FROM alembic_version").fetchall()
    except sqlite3.Error:
        return False
    return check == [("ok",)] and len(revisions) == 1


def _build(target: Path) -> None:
    """Run MLflow's own table creation and migrations into a temporary file, then move it in place
    (os.replace: a concurrent reader sees the old file or the whole new one, never half of one)."""
    from mlflow.store.db.utils import _initialize_tables, create_sqlalchemy_engine

    handle, name = tempfile.mkstemp(dir=target.parent, prefix=".building-", suffix=".db")
    os.close(handle)
    try:
        engine = create_sqlalchemy_engine(f"sqlite:///{name}")
        try:
            _initialize_tables(engine)  # what MLflow runs on an empty database, minus the Default experiment
        finally:
            engine.dispose()
        os.replace(name, target)
    finally:
        Path(name).unlink(missing_ok=True)


def pristine(cache: Path, schema: Schema | None = None) -> Path:
    """The cached empty store for `schema` (default: the installed MLflow's), built when missing or
    damaged."""
    path = cache / (schema or current_schema()).file_name
    if not healthy(path):
        cache.mkdir(parents=True, exist_ok=True)
        _build(path)
    return path


def _copy_new(source: Path, dest: Path) -> bool:
    """Copy `source` to `dest` only if `dest` does not exist, atomically: a store that appears
    meanwhile (another process opening it) is kept and nothing is written."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(f".{dest.name}.{uuid.uuid4().hex}.part")
    try:
        with source.open("rb") as src, part.open("xb") as out:  # mode from the umask, as MLflow's
            shutil.copyfileobj(src, out)
        os.link(part, dest)  # unlike a rename, fails when dest exists
    except FileExistsError:
        return False
    finally:
        part.unlink(missing_ok=True)
    return True


def seed(uri: str, cache: Path | None = None) -> bool:
    """Before MLflow opens `uri`: if it names a SQLite file that does not exist yet, copy the pristine
    store there. True when copied. Any other URI, or an existing file, is left alone.

    Any failure (an unwritable cache, an MLflow whose internals moved) only skips the copy: MLflow
    then builds the store itself, as it would without slipway.
    """
    dest = sqlite_file(uri)
    if dest is None or dest.exists():
        return False
    try:
        return _copy_new(pristine(cache or cache_dir()), dest)
    except Exception:
        return False
