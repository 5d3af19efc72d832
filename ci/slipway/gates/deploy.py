"""`slipway deploy`: make this commit's gated challenger the champion, and record the promotion.

Promotes only a challenger that is this commit's candidate, belongs to this project, and whose
evaluation record agrees with its run (`slipway.gates.evidence`) and with today's champion and gate
settings. With `--smoke` the challenger is served and smoke-tested first; a failure leaves the
champion as it was. Every re-read and move happens under the registry lock: of concurrent deploys
one promotes and the others find it done. The record is written before the alias moves, and
`challenger` is removed only while it still points at the promoted version. The new champion's model
card (`slipway.report.card`) is logged to MLflow before the record; reports/card/ gets it after the move.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from slipway.errors import SlipwayError
from slipway.gates import evidence, record
from slipway.gates.lock import registry_lock
from slipway.gates.names import LINEAGE_PREFIXES
from slipway.project import Project
from slipway.registry import CHALLENGER, CHAMPION, Registry, Version
from slipway.report import card as model_card


def passing_challenger(project: Project, registry: Registry, run_id: str) -> Version:
    """The challenger, if it is this candidate's version, this project's and has a consistent record."""
    challenger = registry.alias(CHALLENGER)
    if challenger is None or challenger.run_id != run_id:
        raise SlipwayError(f"no passing {CHALLENGER} for this candidate: run `nox -s evaluate` first")
    project.ours(challenger)
    evaluation = evidence.verify(registry, challenger, project.project_id)
    champion = registry.alias(CHAMPION)
    now = champion.version if champion else None
    if evaluation.champion != now:
        raise SlipwayError(
            f"champion moved since evaluate (version {challenger.version} was compared against"
            f" {evaluation.champion or 'no champion'}, champion is now {now}): re-run `nox -s evaluate`"
        )
    if evaluation.settings != evidence.settings_digest(project.gates):
        raise SlipwayError("[tool.slipway.gates] changed since evaluate: re-run `nox -s evaluate`")
    return challenger


def smoke_first(project: Project, run_id: str) -> str:
    """Serve the challenger and smoke-test it before anything moves; returns the version tested."""
    from slipway.serve.command import smoke_alias

    registry = project.registry()
    version = passing_challenger(project, registry, run_id).version
    tested = smoke_alias(CHALLENGER)
    if tested != version:
        raise SlipwayError(f"{CHALLENGER} moved during the smoke test ({version} -> {tested}): re-run deploy")
    return version


def already_champion(champion: Version | None, run_id: str) -> bool:
    """True, and says so, when this candidate is the champion already: deploy has nothing to do."""
    if champion is None or champion.run_id != run_id:
        return False
    print(f"deploy: version {champion.version} (this candidate) is already {CHAMPION}: nothing to do")
    return True


def run(args: argparse.Namespace) -> int:
    project = Project.load()
    registry = project.registry()
    candidate = project.candidate()
    if already_champion(registry.alias(CHAMPION), candidate.run_id):
        return 0
    smoked = smoke_first(project, candidate.run_id) if args.smoke else None
    with tempfile.TemporaryDirectory(prefix="slipway-card-") as staging:
        with registry_lock(registry, "deploy"):
            champion = registry.alias(CHAMPION)
            if already_champion(champion, candidate.run_id):
                return 0
            challenger = passing_challenger(project, registry, candidate.run_id)
            if smoked is not None and challenger.version != smoked:
                raise SlipwayError(
                    f"{CHALLENGER} moved after the smoke test ({smoked} -> {challenger.version})"
                )
            details = {k: v for k, v in challenger.tags.items() if k.startswith(LINEAGE_PREFIXES)}
            event = record.Event(
                "promote", challenger.version, champion.version if champion else None, details=details
            )
            card = stage_card(project, registry, challenger, event, Path(staging))  # before anything moves
            record.write(registry, event)
            registry.set_alias(CHAMPION, challenger.version)
            still = registry.alias(CHALLENGER)
            if still is not None and still.version == challenger.version:
                registry.delete_alias(CHALLENGER)
        card.publish(project.root)
    previous = f" (was version {champion.version})" if champion else ""
    smoke = "; smoke-tested before the move" if smoked else ""
    print(f"deploy: version {challenger.version} is now {CHAMPION}{previous}; recorded by {event.by}{smoke}")
    print(f"deploy: model card in {model_card.CARD_DIR}/, logged to MLflow as {card.uri}")
    if card.warning:
        print(f"deploy: warning: {card.warning}", file=sys.stderr)
    return 0


def stage_card(
    project: Project, registry: Registry, version: Version, event: record.Event, folder: Path
) -> model_card.StagedCard:
    """The new champion's model card, logged to its run and tagged on the version (see report.card)."""
    tables = {"training": project.gates.train, "holdout": project.gates.holdout}
    card = model_card.build(project.root, project.contract, tables, version, event)
    return model_card.stage(card, registry, version, folder)


def add_command(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("deploy", help="promote the passing challenger to champion")
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="serve and smoke-test the challenger first; promote only if it passes",
    )
    parser.set_defaults(handler=run)
