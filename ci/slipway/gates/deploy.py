"""`slipway deploy`: make this commit's gated challenger the champion, and record the promotion.

Refuses unless the `challenger` alias points at the current candidate with a passing verdict. The
record is written before the alias moves, so a champion never lacks its record; if the move fails,
the alias stays where it was.
"""

from __future__ import annotations

import argparse

from slipway.errors import SlipwayError
from slipway.gates import record
from slipway.project import Project
from slipway.registry import CHALLENGER, CHAMPION

LINEAGE_PREFIXES = ("git_", "data_md5.", "params_hash", "slipway.gate")


def run(args: argparse.Namespace) -> int:
    del args
    project = Project.load()
    registry = project.registry()
    candidate = project.candidate()
    champion = registry.alias(CHAMPION)
    if champion is not None and champion.run_id == candidate.run_id:
        print(f"deploy: version {champion.version} (this candidate) is already {CHAMPION}: nothing to do")
        return 0
    challenger = registry.alias(CHALLENGER)
    if challenger is None or challenger.run_id != candidate.run_id:
        raise SlipwayError(f"no passing {CHALLENGER} for this candidate: run `nox -s evaluate` first")
    if challenger.tags.get(record.VERDICT_TAG) != "pass":
        raise SlipwayError(f"version {challenger.version} has no passing verdict: it cannot be promoted")
    details = {k: v for k, v in challenger.tags.items() if k.startswith(LINEAGE_PREFIXES)}
    event = record.Event(
        "promote", challenger.version, champion.version if champion else None, details=details
    )
    record.write(registry, event)
    registry.set_alias(CHAMPION, challenger.version)
    registry.delete_alias(CHALLENGER)
    previous = f" (was version {champion.version})" if champion else ""
    print(f"deploy: version {challenger.version} is now {CHAMPION}{previous}; recorded by {event.by}")
    return 0


def add_command(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("deploy", help="promote the passing challenger to champion")
    parser.set_defaults(handler=run)
