"""A new local MLflow store is a copy of a cached empty one: only where no file exists, keyed by the
MLflow schema, rebuilt when damaged, and as usable as one MLflow migrated itself.

The URI and file checks run here; the scenarios needing MLflow (not in slipway's own environment) run
in one subprocess of slipway's env plus MLflow (tests/store_seed_driver.py).
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from slipway.store_seed import cache_dir, healthy, seed, sqlite_file

ROOT = Path(__file__).resolve().parents[1]
MLFLOW_PYTHON = ("uv", "run", "--quiet", "--project", str(ROOT), "--with", "mlflow>=3.17,<4", "python")


@pytest.mark.parametrize(
    ("uri", "path"),
    [
        ("sqlite:///mlflow.db", Path("mlflow.db")),
        ("sqlite:////tmp/x/mlflow.db", Path("/tmp/x/mlflow.db")),
        ("sqlite:///mlflow.db?timeout=20", Path("mlflow.db")),
        ("sqlite:///:memory:", None),
        ("sqlite://", None),
        ("postgresql://u:p@db/mlflow", None),
        ("http://127.0.0.1:5000", None),
        ("file:///tmp/mlruns", None),
    ],
)
def test_only_sqlite_files_are_seeded(uri: str, path: Path | None) -> None:
    assert sqlite_file(uri) == path


def test_an_existing_file_or_another_store_is_left_alone(tmp_path: Path) -> None:
    store = tmp_path / "mlflow.db"
    store.write_text("someone's store")
    assert not seed(f"sqlite:///{store}", tmp_path / "cache")
    assert not seed("http://127.0.0.1:5000", tmp_path / "cache")
    assert store.read_text() == "someone's store"
    assert not (tmp_path / "cache").exists()


def test_the_cache_is_per_user_and_follows_xdg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache_dir() == tmp_path / "slipway"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert cache_dir() == Path.home() / ".cache" / "slipway"


def _database(path: Path, revisions: int) -> Path:
    with closing(sqlite3.connect(path)) as db:
        db.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)")
        db.executemany("INSERT INTO alembic_version VALUES (?)", [(f"r{n}",) for n in range(revisions)])
        db.commit()
    return path


def test_only_a_finished_intact_build_counts_as_cached(tmp_path: Path) -> None:
    good = _database(tmp_path / "good.db", revisions=1)
    assert healthy(good)
    assert not healthy(_database(tmp_path / "unfinished.db", revisions=0))
    assert not healthy(tmp_path / "missing.db")
    (tmp_path / "text.db").write_text("not a database")
    assert not healthy(tmp_path / "text.db")
    (tmp_path / "empty.db").write_bytes(b"")
    assert not healthy(tmp_path / "empty.db")


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """What tests/store_seed_driver.py saw seeding, damaging and using stores with real MLflow."""
    root = tmp_path_factory.mktemp("seeded")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    env |= {"MLFLOW_DISABLE_TELEMETRY": "true", "GIT_PYTHON_REFRESH": "quiet"}
    driver = str(ROOT / "tests" / "store_seed_driver.py")
    result = subprocess.run(
        [*MLFLOW_PYTHON, driver, str(root)], env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return dict(json.loads(result.stdout.splitlines()[-1]))


def test_a_missing_store_is_copied_and_mlflow_skips_its_migrations(seeded: dict[str, Any]) -> None:
    assert seeded["first_copied"] is True
    first = seeded["first"]
    # building the cache ran MLflow's migrations; opening the copy found its tables at the head revision
    assert "Creating initial MLflow database tables..." in seeded["build_messages"]
    assert first["setup_messages"] == []
    assert first["metric"] == 0.9
    assert first["champion"] == "1"
    # the Default experiment is made on first open, so its artifacts sit by the store, not the cache
    assert first["default_artifacts"].endswith("/first/mlruns/0")


def test_an_existing_store_is_never_overwritten(seeded: dict[str, Any]) -> None:
    assert seeded["existing_copied"] is False
    assert seeded["existing_unchanged"] is True
    assert seeded["other_copied"] is False
    assert seeded["other_text"] == "not a database"


def test_the_cache_is_keyed_by_mlflow_version(seeded: dict[str, Any]) -> None:
    """Another version's cached store sat there, intact: the installed MLflow's was built and copied."""
    assert seeded["older_healthy"] is True
    version = seeded["mlflow_version"]
    assert [name.split("-")[1] for name in seeded["cache_files"]] == ["3.0.0", version]
    assert seeded["first"]["champion"] == "1"


def test_a_damaged_cache_is_rebuilt(seeded: dict[str, Any]) -> None:
    assert seeded["damaged_healthy"] is False
    assert seeded["rebuilt_copied"] is True
    assert seeded["rebuilt_healthy"] is True
    assert seeded["rebuilt"]["setup_messages"] == []
    assert seeded["rebuilt"]["champion"] == "1"
