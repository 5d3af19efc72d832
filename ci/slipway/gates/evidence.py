"""The evaluation record: what `evaluate` decided about one model version, bound to its run.

`evaluate` writes the record as a tag of the candidate's run (`slipway.evaluation.<version>`) and its
sha256 as a tag of the version. `deploy` and `rollback` trust a version only when the two agree and
the record names that run, that version, its source, this project and a pass; a hand-set
`slipway.verdict=pass` tag is not evidence.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from typing import Any

from slipway.errors import SlipwayError
from slipway.registry import PROJECT_TAG, Registry, Version

RECORD_TAG = "slipway.evaluation."  # + version, on the run
DIGEST_TAG = "slipway.evaluation_digest"  # on the version


@dataclass(frozen=True)
class Evaluation:
    """One passing verdict: which version of which run, against which champion, under which settings."""

    project: str
    run_id: str
    version: str
    source: str
    champion: str | None  # the champion version it was compared against; None: there was none
    settings: str  # sha256 of the gate settings it was judged under
    verdict: str = "pass"


def settings_digest(settings: Any) -> str:
    """A stable digest of the gate settings (a dataclass): deploy refuses when they changed since."""
    text = json.dumps(asdict(settings), sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _text(evaluation: Evaluation) -> str:
    return json.dumps(asdict(evaluation), sort_keys=True, separators=(",", ":"))


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def write(registry: Registry, evaluation: Evaluation) -> None:
    """The record on the run first, then its digest on the version (a version without it is unproven)."""
    text = _text(evaluation)
    registry.set_run_tag(evaluation.run_id, RECORD_TAG + evaluation.version, text)
    registry.set_tag(evaluation.version, DIGEST_TAG, digest(text))


def verify(registry: Registry, version: Version, project_id: str) -> Evaluation:
    """The version's evaluation record, checked against its run and the version itself; else one line."""
    where = f"version {version.version} of {version.name!r}"
    expected = version.tags.get(DIGEST_TAG)
    if not expected:
        raise SlipwayError(
            f"{where} has no evaluation record (a slipway.verdict tag alone is not evidence):"
            " run `nox -s evaluate` on its commit"
        )
    text = registry.run_tags(version.run_id).get(RECORD_TAG + version.version) if version.run_id else None
    if text is None:
        raise SlipwayError(f"{where}: its run {version.run_id or '(none)'} holds no evaluation record for it")
    if digest(text) != expected:
        raise SlipwayError(
            f"{where}: the evaluation record on run {version.run_id} does not match its digest"
        )
    try:
        evaluation = Evaluation(**json.loads(text))
    except (ValueError, TypeError):
        raise SlipwayError(f"{where}: the evaluation record on run {version.run_id} is malformed") from None
    facts = {
        "project": (evaluation.project, project_id),
        "run": (evaluation.run_id, version.run_id),
        "version": (evaluation.version, version.version),
        "source": (evaluation.source, version.source),
        "verdict": (evaluation.verdict, "pass"),
        PROJECT_TAG: (version.tags.get(PROJECT_TAG), project_id),
    }
    wrong = [f"{name} {got!r} (expected {want!r})" for name, (got, want) in facts.items() if got != want]
    if wrong:
        raise SlipwayError(f"{where}: the evaluation record does not fit: {'; '.join(wrong)}")
    return evaluation
