"""`slipway evaluate`: the candidate must clear absolute thresholds and beat the champion.

Beating means: on the same holdout rows, the lower bound of the paired-bootstrap interval of the
primary metric's improvement reaches `min_improvement`, and no guarded metric regresses past its
tolerance. Only then is the candidate registered and given the `challenger` alias; on failure
nothing in the registry changes. Without a champion, thresholds alone decide.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict, dataclass

import numpy as np

from slipway.config import GatesConfig, Threshold
from slipway.errors import SlipwayError
from slipway.gates import table
from slipway.gates.compare import Comparison, improvement, paired_bootstrap
from slipway.gates.metrics import METRICS, Metric
from slipway.gates.record import VERDICT_TAG
from slipway.project import Project
from slipway.registry import CHALLENGER, CHAMPION, Registry, Version


@dataclass(frozen=True)
class Check:
    """One line of the verdict table."""

    name: str
    champion: str
    challenger: str
    delta: str
    interval: str
    passed: bool


def fmt(value: float) -> str:
    return f"{value:.4f}"


def threshold_checks(thresholds: tuple[Threshold, ...], metrics: dict[str, float]) -> list[Check]:
    """Absolute bars, judged by MLflow's own validator (`MetricThreshold`)."""
    import mlflow
    from mlflow.models import MetricThreshold
    from mlflow.models.evaluation import EvaluationResult
    from mlflow.models.evaluation.validation import ModelValidationFailedException

    checks = []
    for bar in thresholds:
        if bar.metric not in metrics:
            raise SlipwayError(
                f"threshold on {bar.metric!r}, but the project's metrics are {', '.join(sorted(metrics))}"
            )
        try:
            mlflow.validate_evaluation_results(
                {bar.metric: MetricThreshold(threshold=bar.bound, greater_is_better=bar.greater_is_better)},
                EvaluationResult(metrics=metrics, artifacts={}),
            )
            passed = True
        except ModelValidationFailedException:
            passed = False
        checks.append(Check(f"threshold {bar}", "", fmt(metrics[bar.metric]), "", "", passed))
    return checks


def metric(name: str) -> Metric:
    if name not in METRICS:
        raise SlipwayError(f"cannot compare on {name!r}: supported metrics are {', '.join(METRICS)}")
    return METRICS[name]


def champion_checks(
    gates: GatesConfig, y: np.ndarray, champion: np.ndarray, challenger: np.ndarray
) -> tuple[Comparison, list[Check]]:
    primary = paired_bootstrap(
        metric(gates.primary_metric),
        y,
        champion,
        challenger,
        samples=gates.bootstrap_samples,
        confidence=gates.confidence,
        seed=gates.seed,
    )
    checks = [
        Check(
            f"{primary.metric} vs champion (CI low >= {gates.min_improvement:g})",
            fmt(primary.champion),
            fmt(primary.challenger),
            f"{primary.improvement:+.4f}",
            f"[{primary.low:+.4f}, {primary.high:+.4f}]",
            primary.low >= gates.min_improvement,
        )
    ]
    for name, tolerance in gates.guarded:
        guarded = metric(name)
        change = improvement(guarded, y, champion, challenger)
        checks.append(
            Check(
                f"{name} no worse than -{tolerance:g}",
                fmt(guarded.compute(y, champion)),
                fmt(guarded.compute(y, challenger)),
                f"{change:+.4f}",
                "",
                change >= -tolerance,
            )
        )
    return primary, checks


def report(checks: list[Check]) -> None:
    header = ["check", "champion", "challenger", "delta", "CI", "verdict"]
    rows = [
        [c.name, c.champion, c.challenger, c.delta, c.interval, "pass" if c.passed else "FAIL"]
        for c in checks
    ]
    print(table.render(header, rows))
    table.summarize("Evaluation gate", header, rows)


def run(args: argparse.Namespace) -> int:
    del args
    project = Project.load()
    registry = project.registry()
    candidate = project.candidate()
    features, target = project.holdout()
    y = np.asarray(target, dtype=float)
    challenger_scores = np.asarray(project.scores(candidate.model_uri, features), dtype=float)
    metrics = project.metrics(target, challenger_scores)
    checks = threshold_checks(project.gates.thresholds, metrics)

    champion = registry.alias(CHAMPION)
    if champion is not None and champion.run_id == candidate.run_id:
        report(checks)
        print(
            f"evaluate: candidate run {candidate.run_id} is already {CHAMPION}"
            f" (version {champion.version}): nothing to do"
        )
        return 0
    comparison = None
    if champion is not None:
        champion_scores = np.asarray(project.scores(champion.source, features), dtype=float)
        comparison, versus = champion_checks(project.gates, y, champion_scores, challenger_scores)
        checks += versus
    report(checks)
    failed = [c.name for c in checks if not c.passed]
    if failed:
        against = f"champion version {champion.version}" if champion else "thresholds (no champion yet)"
        print(f"evaluate: FAIL against {against}: {'; '.join(failed)}; registry unchanged")
        return 1
    version = register(
        registry, project, candidate.run_id, candidate.model_uri, metrics, comparison, champion
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
    comparison: Comparison | None,
    champion: Version | None,
) -> Version:
    """Register the passing candidate with its verdict, then (last) point `challenger` at it.

    A candidate that is already the challenger keeps its version: re-running the gate adds none.
    """
    current = registry.alias(CHALLENGER)
    if current is not None and current.run_id == run_id:
        return current
    lineage = {
        k: v
        for k, v in registry.run_tags(run_id).items()
        if k.startswith(("git_", "data_md5.", "params_hash"))
    }
    tags = {
        VERDICT_TAG: "pass",
        "slipway.gate": json.dumps(
            {
                "metrics": metrics,
                "thresholds": [str(t) for t in project.gates.thresholds],
                "comparison": asdict(comparison) if comparison else None,
                "champion_at_evaluation": champion.version if champion else None,
            },
            sort_keys=True,
        ),
        **lineage,
    }
    version = registry.register(model_uri, run_id, tags)
    registry.set_alias(CHALLENGER, version.version)
    return version


def add_command(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("evaluate", help="gate the candidate against thresholds and the champion")
    parser.set_defaults(handler=run)
