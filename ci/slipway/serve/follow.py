"""Is a loaded model fit to serve, and has the champion alias moved? `/ready` and the swap ask here.

A model is ready once it has scored the input example logged with it. A running server can follow
the champion: a background thread polls which version the alias names and, when it has moved,
loads that version, checks it the same way and only then hands it to the app, which swaps it in
between requests. A version that fails to load or to score its example is logged once and skipped
until the alias moves again; the server keeps serving what it has.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from slipway.config import ServeConfig
from slipway.errors import first_line
from slipway.serve.model import ServedModel
from slipway.serve.schema import InputError

log = logging.getLogger("slipway.serve")


def example_problem(served: ServedModel) -> str | None:
    """Why `served` is not ready: None once it has scored its logged input example, one row per row."""
    if served.example is None:
        return "the model version has no logged input example to check it on"
    try:
        batch = served.schema.validate(served.example)
    except InputError as exc:
        return f"its logged input example does not fit its input columns: {exc}"
    try:
        scored = served.predict(batch.columns)
    except Exception as exc:
        log.warning("version %s could not score its logged input example: %r", served.version, exc)
        return f"it could not score its logged input example ({type(exc).__name__})"
    if len(scored) != batch.rows:
        return f"it gave {len(scored)} answers for the {batch.rows} rows of its logged input example"
    return None


@dataclass
class Follower:
    """Polls which version the champion alias names; loads a new one, checks it, hands it over."""

    champion_version: Callable[[], str | None]  # the version the alias names now (None: no champion)
    load: Callable[[], ServedModel]  # loads the champion
    interval: float  # seconds between polls
    skipped: str | None = None  # a version that failed; not tried again until the alias moves
    last_error: str = ""  # the last polling error logged (the same one is not logged again)

    def poll(self, serving: str) -> ServedModel | None:
        """The champion, loaded and checked, when it is not the version `serving`; else None."""
        version = self.champion_version()
        if version is None or version in (serving, self.skipped):
            return None
        try:
            served = self.load()
        except Exception as exc:
            self.skipped = version
            log.warning(
                "serve: champion version %s not loaded, still serving %s: %s",
                version,
                serving,
                first_line(exc),
            )
            return None
        if served.version == serving:
            return None
        problem = example_problem(served)
        if problem is not None:
            self.skipped = served.version
            log.warning(
                "serve: champion version %s not served, still serving %s: %s", version, serving, problem
            )
            return None
        return served

    def run(
        self, serving: Callable[[], str], hand_over: Callable[[ServedModel], None], stop: threading.Event
    ) -> None:
        """Poll every `interval` seconds until `stop` is set; hand each new, checked champion over."""
        while not stop.wait(self.interval):
            try:
                found = self.poll(serving())
            except Exception as exc:  # the registry unreachable, say: keep serving, try again later
                message = first_line(exc)
                if message != self.last_error:
                    self.last_error = message
                    log.warning("serve: cannot read the champion alias, still serving: %s", message)
                continue
            self.last_error = ""
            if found is not None:
                hand_over(found)


def champion_follower(root: Path, limits: ServeConfig) -> Follower:
    """A Follower of the project's champion alias, at `[tool.slipway.serve] follow_champion_seconds`."""
    from slipway.config import load_project, tracking_uri
    from slipway.registry import CHAMPION, Registry
    from slipway.serve.model import load_champion

    project = load_project(root / "pyproject.toml")
    registry = Registry(project.model_name, tracking_uri(project, root.resolve()))

    def version() -> str | None:
        found = registry.alias(CHAMPION)
        return found.version if found is not None else None

    return Follower(
        version, lambda: load_champion(root, max_rows=limits.max_rows), limits.follow_champion_seconds
    )
