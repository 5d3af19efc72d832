"""Seeding scenarios for tests/test_store_seed.py, run where MLflow is installed (one import of it).

`python store_seed_driver.py DIR` seeds stores under DIR (its cache in DIR/cache), uses them with
real MLflow, and prints what it saw as JSON. No mocks: MLflow's own SQLite store and registry.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import sys
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any


class Messages(logging.Handler):
    """Collects log messages."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@contextmanager
def setup_messages() -> Iterator[list[str]]:
    """What MLflow's store setup logs meanwhile: it announces its table creation and migrations."""
    messages = Messages()
    logger = logging.getLogger("mlflow.store.db.utils")
    logger.addHandler(messages)
    try:
        yield messages.lines
    finally:
        logger.removeHandler(messages)


def use(store: Path) -> dict[str, Any]:
    """Open a store as the pipeline and gates do: an experiment, a run, a registered model, an alias."""
    import mlflow

    os.chdir(store.parent)
    uri = f"sqlite:///{store}"
    client = mlflow.MlflowClient(tracking_uri=uri, registry_uri=uri)
    with setup_messages() as opening:
        default = client.get_experiment("0").artifact_location  # the first call opens the store
    experiment = client.create_experiment("seeded")
    run = client.create_run(experiment)
    client.log_param(run.info.run_id, "depth", "3")
    client.log_metric(run.info.run_id, "auc", 0.9)
    client.set_terminated(run.info.run_id)
    client.create_registered_model("model")
    version = client.create_model_version("model", f"runs:/{run.info.run_id}/model", run.info.run_id)
    client.set_registered_model_alias("model", "champion", version.version)
    return {
        "default_artifacts": default,
        "setup_messages": opening,
        "metric": client.get_run(run.info.run_id).data.metrics["auc"],
        "champion": str(client.get_model_version_by_alias("model", "champion").version),
    }


def main(root: Path) -> dict[str, Any]:
    import mlflow
    from slipway.store_seed import Schema, current_schema, healthy, seed

    cache = root / "cache"
    facts: dict[str, Any] = {"mlflow_version": mlflow.__version__}
    # Another MLflow's cached store (a stand-in: no MLflow tables) must not be the one copied.
    cache.mkdir()
    older = cache / Schema("3.0.0", current_schema().migrations).file_name
    with closing(sqlite3.connect(older)) as db:
        db.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)")
        db.execute("INSERT INTO alembic_version VALUES ('older')")
        db.commit()
    facts["older_healthy"] = healthy(older)
    first = root / "first" / "mlflow.db"
    with setup_messages() as building:  # the cache is built here, by MLflow's own migrations
        facts["first_copied"] = seed(f"sqlite:///{first}", cache)
    facts["build_messages"] = building
    facts["cache_files"] = sorted(path.name for path in cache.iterdir())
    facts["first"] = use(first)

    # An existing store, even one that is not a database, is never written to.
    before = first.read_bytes()
    facts["existing_copied"] = seed(f"sqlite:///{first}", cache)
    facts["existing_unchanged"] = first.read_bytes() == before
    other = root / "other.db"
    other.write_text("not a database")
    facts["other_copied"] = seed(f"sqlite:///{other}", cache)
    facts["other_text"] = other.read_text()

    current = cache / current_schema().file_name
    # A damaged cache file (truncated by a full disk, say) is rebuilt.
    current.write_bytes(current.read_bytes()[:4096])
    facts["damaged_healthy"] = healthy(current)
    rebuilt = root / "rebuilt" / "mlflow.db"
    facts["rebuilt_copied"] = seed(f"sqlite:///{rebuilt}", cache)
    facts["rebuilt_healthy"] = healthy(current)
    facts["rebuilt"] = use(rebuilt)
    return facts


if __name__ == "__main__":
    print(json.dumps(main(Path(sys.argv[1]).resolve())))
