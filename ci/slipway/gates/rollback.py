"""`slipway rollback`: point `champion` back at the previous champion (or `--to VERSION`).

The previous champion comes from the current champion's promotion record; the target must belong
to this project and carry a consistent evaluation record (`slipway.gates.evidence`). Reads and the
move happen under the registry lock. The rollback is recorded on the version that becomes champion,
and that version's model card goes back into reports/card/.
"""

from __future__ import annotations

import argparse
import sys

from slipway.errors import SlipwayError
from slipway.gates import evidence, record
from slipway.gates.lock import registry_lock
from slipway.project import Project
from slipway.registry import CHAMPION, Registry
from slipway.report import card


def previous_champion(registry: Registry, current: str) -> str:
    """The version the current champion replaced, per the latest record that made it champion."""
    made_current = [e for e in record.events(registry) if e.version == current]
    if not made_current or made_current[-1].previous is None:
        raise SlipwayError(f"version {current} replaced no earlier champion: name one with --to VERSION")
    return made_current[-1].previous


def run(args: argparse.Namespace) -> int:
    project = Project.load()
    registry = project.registry()
    with registry_lock(registry, "rollback"):
        return roll_back(project, registry, args.to)


def roll_back(project: Project, registry: Registry, to: str | None) -> int:
    champion = registry.alias(CHAMPION)
    if champion is None:
        raise SlipwayError(f"model {project.config.model_name!r} has no {CHAMPION}: nothing to roll back")
    target_version = to or previous_champion(registry, champion.version)
    if target_version == champion.version:
        raise SlipwayError(f"version {target_version} is already {CHAMPION}")
    known = {version.version: version for version in registry.versions()}
    if target_version not in known:
        raise SlipwayError(
            f"model {project.config.model_name!r} has no version {target_version}: it has {', '.join(known)}"
        )
    target = project.ours(known[target_version])
    evidence.verify(registry, target, project.project_id)
    event = record.Event("rollback", target.version, champion.version)
    record.write(registry, event)
    registry.set_alias(CHAMPION, target.version)
    print(f"rollback: version {target.version} is {CHAMPION} again (was version {champion.version})")
    try:  # the move is done: a card that cannot be fetched is a warning, not a failed rollback
        print(f"rollback: {card.restore(project.root, registry, target)}")
    except SlipwayError as exc:
        print(
            f"rollback: warning: {CHAMPION}'s model card not restored in {card.CARD_DIR}/: {exc}",
            file=sys.stderr,
        )
    return 0


def add_command(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("rollback", help="point champion back at the previous champion")
    parser.add_argument("--to", metavar="VERSION", help="roll back to this version instead")
    parser.set_defaults(handler=run)
