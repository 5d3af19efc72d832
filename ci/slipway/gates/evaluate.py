"""`slipway evaluate`: the candidate must clear thresholds, beat the naive baseline, then the champion.

Beating means: on the same holdout rows, the lower bound of the paired-bootstrap interval of the
primary metric's improvement reaches `min_improvement`; against the champion, also no guarded metric
regresses past its tolerance. The baseline predicts the training target's class shares (or mean)
for every row. Only when every check passes is the candidate registered and given the `challenger`
alias; on failure nothing in the registry changes. The pass is recorded as evidence bound to the
candidate's run (`slipway.gates.evidence`), and `challenger` moves under the registry lock.
"""

from __future__ import annotations

import argparse
import json
import os
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np

from slipway.config import GatesConfig, Threshold
from slipway.contract import Contract
from slipway.errors import SlipwayError
from slipway.gates import evidence, table
from slipway.gates.baseline import baseline_scores
from slipway.gates.compare import Comparison, improvement, paired_bootstrap
from slipway.gates.lock import registry_lock
from slipway.gates.metrics import Array, Metric, metric_for
from slipway.gates.record import VERDICT_TAG
from slipway.project import Project
from slipway.registry import CHALLENGER, CHAMPION, PROJECT_TAG, Registry, Version

VERDICT_ONLY_ENV = "SLIPWAY_VERDICT_ONLY"  # 1: the pull-request mode, see add_command
Against = Literal["champion", "thresholds", "baseline"]
AGAINST_ORDER: tuple[Against, ...] = ("champion", "thresholds", "baseline")  # as the failure line names them
HEADER = ["check", "reference", "candidate", "delta", "CI", "verdict"]


@dataclass(frozen=True)
class Check:
    """One line of the verdict table; `reference` is the baseline's or the champion's value."""

    name: str
    reference: str
    candidate: str
    delta: str
    interval: str
    passed: bool
    against: Against


@dataclass(frozen=True)
class GateMetrics:
    """The bootstrap metrics the settings name, resolved for the contract's task before any scoring."""

    primary: Metric
    guarded: tuple[tuple[Metric, float], ...]


@dataclass(frozen=True)
class Verdict:
    """The paired-bootstrap comparisons a passing candidate is recorded with (None: not run)."""

    baseline: Comparison | None
    champion: Comparison | None


def fmt(value: float) -> str:
    return f"{value:.4f}"


def gate_metrics(gates: GatesConfig, contract: Contract) -> GateMetrics:
    """Primary and guarded metrics for the task; a name the task lacks is one line naming its metrics."""
    n_classes = len(contract.labels)
    return GateMetrics(
        primary=metric_for(gates.primary(contract.task), contract.task, n_classes),
        guarded=tuple((metric_for(name, contract.task, n_classes), tol) for name, tol in gates.guarded),
    )


def bootstrap_target(target: Any, contract: Contract) -> Array:
    """What the numpy metrics take: class indices in `contract.labels` order, or float values."""
    from slipway.contract.coerce import label_indices

    if contract.is_classification:
        return label_indices(target, contract)
    return np.asarray(target, dtype=float)


def threshold_checks(thresholds: tuple[Threshold, ...], metrics: dict[str, float], task: str) -> list[Check]:
    """Absolute bars on the project's own metrics, judged by MLflow's validator (`MetricThreshold`)."""
    import mlflow
    from mlflow.models import MetricThreshold
    from mlflow.models.evaluation import EvaluationResult
    from mlflow.models.evaluation.validation import ModelValidationFailedException

    checks = []
    for bar in thresholds:
        if bar.metric not in metrics:
            known = ", ".join(sorted(metrics))
            raise SlipwayError(f"threshold on {bar.metric!r}, but the project's {task} metrics are {known}")
        try:
            mlflow.validate_evaluation_results(
                {bar.metric: MetricThreshold(threshold=bar.bound, greater_is_better=bar.greater_is_better)},
                EvaluationResult(metrics=metrics, artifacts={}),
            )
            passed = True
        except ModelValidationFailedException:
            passed = False
        checks.append(Check(f"threshold {bar}", "", fmt(metrics[bar.metric]), "", "", passed, "thresholds"))
    return checks


def versus(
    against: Against, gates: GatesConfig, metric: Metric, y: Array, reference: Array, candidate: Array
) -> tuple[Comparison, Check]:
    """The primary metric's paired bootstrap against the baseline or the champion, and its verdict line."""
    result = paired_bootstrap(
        metric,
        y,
        reference,
        candidate,
        samples=gates.bootstrap_samples,
        confidence=gates.confidence,
        seed=gates.seed,
    )
    check = Check(
        f"{result.metric} vs {against} (CI low >= {gates.min_improvement:g})",
        fmt(result.reference),
        fmt(result.candidate),
        f"{result.improvement:+.4f}",
        f"[{result.low:+.4f}, {result.high:+.4f}]",
        result.low >= gates.min_improvement,
        against,
    )
    return result, check


def guarded_checks(
    guarded: tuple[tuple[Metric, float], ...], y: Array, champion: Array, candidate: Array
) -> list[Check]:
    """Metrics that may not regress against the champion by more than their tolerance."""
    checks = []
    for metric, tolerance in guarded:
        change = improvement(metric, y, champion, candidate)
        checks.append(
            Check(
                f"{metric.name} no worse than -{tolerance:g}",
                fmt(metric.compute(y, champion)),
                fmt(metric.compute(y, candidate)),
                f"{change:+.4f}",
                "",
                change >= -tolerance,
                "champion",
            )
        )
    return checks


def failure_line(failed: list[Check], champion_version: str | None) -> str:
    """One line naming what the candidate failed against and which checks, champion first."""
    names = {
        "champion": f"champion version {champion_version}",
        "thresholds": "thresholds",
        "baseline": "the naive baseline",
    }
    parts = [names[kind] for kind in AGAINST_ORDER if any(c.against == kind for c in failed)]
    if champion_version is None and parts:
        parts[0] += " (no champion yet)"
    checks = "; ".join(c.name for c in failed)
    return f"evaluate: FAIL against {' and '.join(parts)}: {checks}; registry unchanged"


def report(checks: list[Check]) -> None:
    rows = [
        [c.name, c.reference, c.candidate, c.delta, c.interval, "pass" if c.passed else "FAIL"]
        for c in checks
    ]
    print(table.render(HEADER, rows))
    table.summarize("Evaluation gate", HEADER, rows)


def run(args: argparse.Namespace) -> int:
    project = Project.load()
    gates, contract = project.gates, project.contract
    chosen = gate_metrics(gates, contract)  # a wrong metric name fails before any model is loaded
    registry = project.registry()
    candidate = project.candidate()
    features, target = project.holdout()
    y = bootstrap_target(target, contract)
    ours = project.project_id
    theirs = registry.run_tags(candidate.run_id).get(PROJECT_TAG) or ours  # untagged: made before 0.3.0
    if theirs != ours:
        raise SlipwayError(
            f"candidate run {candidate.run_id} was logged by project {theirs}, not this one ({ours}):"
            " run `nox -s train` here"
        )
    model = project.load_model(candidate.model_uri, f"candidate run {candidate.run_id}")
    candidate_scores = project.scores(model, features, candidate.model_uri)
    metrics = project.metrics(target, candidate_scores)
    checks = threshold_checks(gates.thresholds, metrics, contract.task)

    champion = registry.alias(CHAMPION)
    if champion is not None and champion.run_id == candidate.run_id:
        report(checks)
        print(
            f"evaluate: candidate run {candidate.run_id} is already {CHAMPION}"
            f" (version {champion.version}): nothing to do"
        )
        return 0
    baseline = None
    if gates.baseline:
        naive = baseline_scores(project.train_target(), contract, len(y))
        baseline, check = versus("baseline", gates, chosen.primary, y, naive, candidate_scores)
        checks.append(check)
    comparison = None
    if champion is not None:
        project.ours(champion)  # a foreign champion is refused before it is loaded
        what = f"champion version {champion.version}"
        champion_scores = project.scores(project.load_model(champion.source, what), features, what)
        comparison, check = versus("champion", gates, chosen.primary, y, champion_scores, candidate_scores)
        checks += [check, *guarded_checks(chosen.guarded, y, champion_scores, candidate_scores)]
    report(checks)
    failed = [c for c in checks if not c.passed]
    if failed:
        print(failure_line(failed, champion.version if champion else None))
        return 1
    if args.verdict_only:
        print("evaluate: pass; registry unchanged (verdict only: `nox -s deploy` registers and promotes)")
        return 0
    version = register(
        registry,
        project,
        candidate.run_id,
        candidate.model_uri,
        metrics,
        Verdict(baseline, comparison),
        champion,
    )
    print(
        f"evaluate: pass; registered version {version.version} as {CHALLENGER} (deploy makes it {CHAMPION})"
    )
    return 0


def register(
    registry: Registry,
    project: Project,
    run_id: str,
    model_uri: str,
    metrics: dict[str, float],
    verdict: Verdict,
    champion: Version | None,
) -> Version:
    """Register the passing candidate with its verdict and evidence, then (last) point `challenger` at it.

    A candidate that is already the challenger keeps its version (re-running the gate adds none) and
    gets a fresh record. `challenger` moves under the registry lock, and only while the champion is
    still the one the candidate was compared against.
    """
    current = registry.alias(CHALLENGER)
    if current is not None and current.run_id == run_id:
        version = current
    else:
        tags = gate_tags(registry, project, run_id, metrics, verdict, champion)
        version = registry.register(model_uri, run_id, tags)
    write_evidence(registry, project, version, champion)
    move_challenger(registry, version, champion.version if champion else None)
    return version


def gate_tags(
    registry: Registry,
    project: Project,
    run_id: str,
    metrics: dict[str, float],
    verdict: Verdict,
    champion: Version | None,
) -> dict[str, str]:
    """The tags a passing version is registered with: verdict, gate details, lineage, the project."""
    lineage = {
        k: v
        for k, v in registry.run_tags(run_id).items()
        if k.startswith(("git_", "data_md5.", "params_hash"))
    }
    return {
        VERDICT_TAG: "pass",
        "slipway.gate": json.dumps(
            {
                "metrics": metrics,
                "thresholds": [str(t) for t in project.gates.thresholds],
                "primary_metric": project.gates.primary(project.contract.task),
                "baseline_comparison": asdict(verdict.baseline) if verdict.baseline else None,
                "comparison": asdict(verdict.champion) if verdict.champion else None,
                "champion_at_evaluation": champion.version if champion else None,
            },
            sort_keys=True,
        ),
        **lineage,
        PROJECT_TAG: project.project_id,
    }


def write_evidence(registry: Registry, project: Project, version: Version, champion: Version | None) -> None:
    """The evaluation record of a passing version, bound to its run (`slipway.gates.evidence`)."""
    evidence.write(
        registry,
        evidence.Evaluation(
            project=project.project_id,
            run_id=version.run_id,
            version=version.version,
            source=version.source,
            champion=champion.version if champion else None,
            settings=evidence.settings_digest(project.gates),
        ),
    )


def move_challenger(registry: Registry, version: Version, compared: str | None) -> None:
    """Point `challenger` at the version, under the lock, only while the champion is the one it beat."""
    with registry_lock(registry, "evaluate"):
        now = registry.alias(CHAMPION)
        if (now.version if now else None) != compared:
            raise SlipwayError(
                f"champion moved during evaluate (version {version.version} was compared against"
                f" {compared or 'no champion'}, champion is now {now.version if now else 'none'}):"
                " re-run `nox -s evaluate`"
            )
        registry.set_alias(CHALLENGER, version.version)


def add_command(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "evaluate", help="gate the candidate against thresholds, the naive baseline and the champion"
    )
    # Pull requests: credentials that may read the registry but not write it still get a verdict.
    parser.add_argument(
        "--verdict-only",
        action="store_true",
        default=os.environ.get(VERDICT_ONLY_ENV, "").lower() in ("1", "true"),
        help=f"gate without registering or moving an alias (default: set by {VERDICT_ONLY_ENV}=1)",
    )
    parser.set_defaults(handler=run)
