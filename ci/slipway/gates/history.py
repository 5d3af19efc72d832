"""`slipway history`: every promotion and rollback of the model, oldest first, with each champion's card."""

from __future__ import annotations

import argparse

from slipway.gates import record, table
from slipway.project import Project
from slipway.registry import CHAMPION
from slipway.report.card import CARD_TAG


def card_uri(tags: dict[str, str]) -> str:
    """Where the version's model card is in MLflow; "-" for none (promoted before cards, or tampered)."""
    uri = tags.get(CARD_TAG, "")
    return uri if uri and len(uri) <= 300 and uri.isprintable() else "-"


def run(args: argparse.Namespace) -> int:
    del args
    project = Project.load()
    registry = project.registry()
    events = record.events(registry)
    if not events:
        print(f"history: model {project.config.model_name!r} has never been promoted")
        return 0
    cards = {v.version: card_uri(v.tags) for v in registry.versions()}
    header = ["time (UTC)", "event", "version", "replaced", "by", "git commit", "card"]
    rows = [
        [
            e.at[:19],
            e.kind,
            e.version,
            e.previous or "-",
            e.by,
            e.details.get("git_commit", "")[:12],
            cards.get(e.version, "-"),
        ]
        for e in events
    ]
    print(table.render(header, rows))
    champion = registry.alias(CHAMPION)
    print(f"{CHAMPION}: version {champion.version if champion else '-'}")
    return 0


def add_command(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("history", help="list promotions and rollbacks")
    parser.set_defaults(handler=run)
