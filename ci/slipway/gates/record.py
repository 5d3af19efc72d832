"""Promotion records, kept as tags on the model versions themselves (no side database).

Each event is one tag `slipway.event.<UTC time>` holding JSON, so a version can carry several
(promoted, rolled back from, promoted again) and `history` can replay them in order.
"""

from __future__ import annotations

import getpass
import json
import os
import sys
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
    """Every well-formed recorded event of the model, oldest first.

    A malformed record (hand-edited, or written by another tool) is skipped with a one-line warning
    on stderr naming its version and tag, so `history` and `rollback` still work from the others.
    """
    found = []
    for version in registry.versions():
        for key, value in version.tags.items():
            if not key.startswith(EVENT_PREFIX):
                continue
            event, problem = parse_event(value)
            if event is None:
                print(
                    f"slipway: skipping malformed record {key} on version {version.version}: {problem}",
                    file=sys.stderr,
                )
                continue
            found.append(event)
    return sorted(found, key=lambda e: e.at)


def parse_event(value: str) -> tuple[Event | None, str]:
    """The event a tag holds, or None and why not (not JSON; fields missing, extra or mistyped)."""
    try:
        data = json.loads(value)
    except ValueError:
        return None, "not JSON"
    if not isinstance(data, dict):
        return None, f"expected a JSON object, got {type(data).__name__}"
    fields = set(Event.__dataclass_fields__)
    if set(data) != fields:
        missing, extra = sorted(fields - set(data)), sorted(set(data) - fields)
        return None, f"missing {missing}, unexpected {extra}"
    texts = [data[name] for name in ("kind", "version", "at", "by")]
    details = data["details"]
    if not (
        all(isinstance(text, str) for text in texts)
        and isinstance(data["previous"], str | None)
        and isinstance(details, dict)
        and all(isinstance(v, str) for v in details.values())
    ):
        return None, "a field has the wrong type"
    return Event(**data), ""
