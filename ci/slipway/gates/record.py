"""Promotion records, kept as tags on the model versions themselves (no side database).

Each event is one tag `slipway.event.<UTC time>` holding JSON, so a version can carry several
(promoted, rolled back from, promoted again) and `history` can replay them in order.
"""

from __future__ import annotations

import getpass
import json
import os
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

from slipway.registry import Registry

EVENT_PREFIX = "slipway.event."
VERDICT_TAG = "slipway.verdict"


@dataclass(frozen=True)
class Event:
    kind: str  # "promote" or "rollback"
    version: str  # the version that became champion
    previous: str | None  # the champion it replaced
    # UTC, sortable, and made only of characters MLflow allows in tag keys
    at: str = field(default_factory=lambda: datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"))
    by: str = field(default_factory=lambda: actor())
    details: dict[str, str] = field(default_factory=dict)


def actor() -> str:
    """Who acted: the CI actor when in GitHub Actions, else the local user."""
    return os.environ.get("GITHUB_ACTOR") or getpass.getuser()


def write(registry: Registry, event: Event) -> None:
    registry.set_tag(event.version, EVENT_PREFIX + event.at, json.dumps(asdict(event), sort_keys=True))


def events(registry: Registry) -> list[Event]:
    """Every recorded event of the model, oldest first."""
    found = [
        Event(**json.loads(value))
        for version in registry.versions()
        for key, value in version.tags.items()
        if key.startswith(EVENT_PREFIX)
    ]
    return sorted(found, key=lambda e: e.at)
