"""`slipway evaluate`: the candidate must clear thresholds, beat the naive baseline, then the champion.

Beating means: on the same holdout rows, the lower bound of the paired-bootstrap interval of the
primary metric's improvement reaches `min_improvement`; against the champion, also no guarded metric
regresses past its tolerance. The baseline predicts the training target's class shares (or mean)
for every row. Only when every check passes is the candidate made a new model version and given the
`challenger` alias; on failure nothing in the registry changes. The pass is recorded as evidence bound
to the candidate's run (`slipway.gates.evidence`), and `challenger` moves under the registry lock.
"""

from __future__ import annotations

import argparse
import json
import os
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np

from slipway import __version__, verdicts
from slipway.config import GatesConfig, Threshold
from slipway.contract import CONTRACT_FILE, Contract
from slipway.errors import SlipwayError
from slipway.gates import evidence, table
from slipway.gates.baseline import baseline_scores
from slipway.gates.checks import HEADER, Against, Check
from slipway.gates.compare import Bootstrapped, Comparison, Resamples, compare, improvement
from slipway.gates.lock import registry_lock
from slipway.gates.metrics import Array, Metric, metric_for
from slipway.gates.names import GATE_TAG, RUN_LINEAGE, VERDICT_ONLY_ENV
from slipway.gates.record import VERDICT_TAG
from slipway.project import Project
from slipway.registry import CHALLENGER, CHAMPION, PROJECT_TAG, Registry, Version
from slipway.report import gate as gate_report

AGAINST_ORDER: tuple[Against, ...] = ("champion", "thresholds", "baseline")  # as the failure line names them
PASS_ORDER: tuple[Against, ...] = ("thresholds", "baseline", "champion")  # as the gate checks them


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
    against: Against,
    gates: GatesConfig,
    metric: Metric,
    y: Array,
    reference: Array,
    candidate: Array,
    resamples: Resamples | None = None,
) -> tuple[Bootstrapped, Check]:
    """The primary metric's paired bootstrap against the baseline or the champion, and its verdict line.

    `resamples`: the gate run's shared draw (the settings' seed, samples and confidence; drawn here if None).
    """
    if resamples is None:
        resamples = Resamples.draw(
            len(y), samples=gates.bootstrap_samples, confidence=gates.confidence, seed=gates.seed
        )
    bootstrapped = compare(metric, y, reference, candidate, resamples)
    result = bootstrapped.comparison
    check = Check(
        f"{result.metric} vs {against} (CI low >= {gates.min_improvement:g})",
        fmt(result.reference),
        fmt(result.candidate),
        f"{result.improvement:+.4f}",
        f"[{result.low:+.4f}, {result.high:+.4f}]",
        result.low >= gates.min_improvement,
        against,
    )
    return bootstrapped, check


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


def _against(champion_version: str | None) -> dict[Against, str]:
    return {
        "champion": f"champion version {champion_version}",
        "thresholds": "thresholds",
        "baseline": "the naive baseline",
    }


def failure_reason(failed: list[Check], champion_version: str | None) -> str:
    """What the candidate failed against and which checks, champion first: "against X: check; check"."""
    names = _against(champion_version)
    parts = [names[kind] for kind in AGAINST_ORDER if any(c.against == kind for c in failed)]
    if champion_version is None and parts:
        parts[0] += " (no champion yet)"
    checks = "; ".join(c.name for c in failed)
    return f"against {' and '.join(parts)}: {checks}"


def failure_line(failed: list[Check], champion_version: str | None) -> str:
    """One line naming what the candidate failed against and which checks, champion first."""
    return f"evaluate: FAIL {failure_reason(failed, champion_version)}; registry unchanged"


def verdict_sentence(checks: list[Check], champion_version: str | None) -> str:
    """The verdict for the report, in the failure line's words: "passed all 3 checks against ..."."""
    failed = [c for c in checks if not c.passed]
    if failed:
        return f"blocked {failure_reason(failed, champion_version)}; registry unchanged."
    if not checks:
        return "passed: no check is configured (no thresholds, no baseline) and there is no champion yet."
    names = _against(champion_version)
    kinds = [names[kind] for kind in PASS_ORDER if any(c.against == kind for c in checks)]
    counted = "its one check" if len(checks) == 1 else f"all {len(checks)} checks"
    return f"passed {counted} ({', '.join(kinds)})."


def report(checks: list[Check]) -> None:
    print(table.render(HEADER, [c.row() for c in checks]))


def run(args: argparse.Namespace) -> int:
    project = Project.load()
    gates, contract = project.gates, project.contract
    chosen = gate_metrics(gates, contract)  # a wrong metric name fails before any model is loaded
    registry = project.registry()
    candidate = project.candidate()
    champion = registry.alias(CHAMPION)
    key = verdict_key(project, candidate.run_id, champion)
    if verdicts.cached(project.root, "evaluate", key) and still_passing(
        project, registry, candidate.run_id, champion
    ):
        against = f"champion version {champion.version}" if champion else "no champion"
        print(f"evaluate: skipped, {verdicts.skipped_message(key)}: {CHALLENGER} passed against {against}")
        return 0
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
    seen = gate_report.Outcome(  # what the report shows; the verdict comes last
        model_name=project.config.model_name,
        contract=contract,
        gates=gates,
        verdict="",
        passed=False,
        checks=checks,
        y=y,
        candidate=candidate_scores,
    )

    if champion is not None and champion.run_id == candidate.run_id:
        report(checks)
        noop = f"candidate run {candidate.run_id} is already {CHAMPION} (version {champion.version})"
        publish(args, project, replace(seen, verdict=f"nothing to do: {noop}.", passed=True))
        print(f"evaluate: {noop}: nothing to do")
        return 0
    resamples = Resamples.draw(
        len(y), samples=gates.bootstrap_samples, confidence=gates.confidence, seed=gates.seed
    )
    train = training_target(project, args.report)
    if train is not None:
        seen = replace(seen, train_y=bootstrap_target(train, contract))
    seen = replace(seen, resamples=resamples)
    if gates.baseline:
        naive = baseline_scores(train, contract, len(y))
        versus_baseline, check = versus(
            "baseline", gates, chosen.primary, y, naive, candidate_scores, resamples
        )
        checks.append(check)
        seen = replace(seen, baseline=naive, versus_baseline=versus_baseline)
    if champion is not None:
        project.ours(champion)  # a foreign champion is refused before it is loaded
        what = f"champion version {champion.version}"
        champion_scores = project.scores(project.load_model(champion.source, what), features, what)
        versus_champion, check = versus(
            "champion", gates, chosen.primary, y, champion_scores, candidate_scores, resamples
        )
        checks += [check, *guarded_checks(chosen.guarded, y, champion_scores, candidate_scores)]
        seen = replace(
            seen, champion=champion_scores, champion_version=champion.version, versus_champion=versus_champion
        )
    report(checks)
    failed = [c for c in checks if not c.passed]
    champion_version = champion.version if champion else None
    verdict = verdict_sentence(checks, champion_version)
    publish(args, project, replace(seen, checks=checks, verdict=verdict, passed=not failed))
    if failed:
        print(failure_line(failed, champion_version))
        return 1
    if args.verdict_only:
        print("evaluate: pass; registry unchanged (verdict only: `nox -s deploy` registers and promotes)")
        return 0
    version = promote_to_challenger(
        registry,
        project,
        candidate.run_id,
        candidate.model_uri,
        metrics,
        Verdict(*(b.comparison if b else None for b in (seen.versus_baseline, seen.versus_champion))),
        champion,
    )
    verdicts.record(project.root, "evaluate", key)
    print(
        f"evaluate: pass; registered version {version.version} as {CHALLENGER} (deploy makes it {CHAMPION})"
    )
    return 0


def verdict_key(project: Project, run_id: str, champion: Version | None) -> str:
    """What decides the verdict: candidate run, champion, gate settings, contract and both tables."""
    facts = {
        "run": run_id,
        "champion": champion.version if champion else "",
        "settings": evidence.settings_digest(project.gates),
        "project": project.project_id,
        "slipway": __version__,  # the gate's own code: a new release judges again
    }
    inputs = verdicts.Inputs(
        files=(CONTRACT_FILE,), stamps=(project.gates.holdout, project.gates.train), facts=facts
    )
    return verdicts.key(inputs, project.root)


def still_passing(project: Project, registry: Registry, run_id: str, champion: Version | None) -> bool:
    """Whether the registry still holds this candidate's pass, as `challenger`, with a record that
    verifies against today's champion and gate settings: the local key alone is not evidence."""
    challenger = registry.alias(CHALLENGER)
    if challenger is None or challenger.run_id != run_id:
        return False
    try:
        evaluation = evidence.verify(registry, challenger, project.project_id)
    except SlipwayError:
        return False
    now = champion.version if champion else None
    return evaluation.champion == now and evaluation.settings == evidence.settings_digest(project.gates)


def training_target(project: Project, report: bool) -> Any:
    """The training rows' target, read once: the baseline needs it, the report shows it where it exists."""
    if project.gates.baseline or (report and (project.root / project.gates.train).exists()):
        return project.train_target()
    return None


def publish(args: argparse.Namespace, project: Project, outcome: gate_report.Outcome) -> None:
    """The gate report in reports/gate/ and the job summary, unless `--no-report`."""
    if args.report:
        path = gate_report.publish(outcome, project.root / gate_report.DIRECTORY)
        print(f"evaluate: report in {path.relative_to(project.root).parent}/ (report.md, report.html)")


def promote_to_challenger(
    registry: Registry,
    project: Project,
    run_id: str,
    model_uri: str,
    metrics: dict[str, float],
    verdict: Verdict,
    champion: Version | None,
) -> Version:
    """Make the passing candidate a model version with its verdict and evidence, then (last) `challenger`.

    A candidate that is already the challenger keeps its version (re-running the gate adds none) and
    gets a fresh record. `challenger` moves under the registry lock, and only while the champion is
    still the one the candidate was compared against.
    """
    current = registry.alias(CHALLENGER)
    if current is not None and current.run_id == run_id:
        version = current
    else:
        tags = gate_tags(registry, project, run_id, metrics, verdict, champion)
        version = registry.create_version(model_uri, run_id, tags)
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
    """The tags a passing version is created with: verdict, gate details, lineage, the project."""
    lineage = {k: v for k, v in registry.run_tags(run_id).items() if k.startswith(RUN_LINEAGE)}
    return {
        VERDICT_TAG: "pass",
        GATE_TAG: json.dumps(
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
        help=f"gate without creating a version or moving an alias (default: set by {VERDICT_ONLY_ENV}=1)",
    )
    parser.add_argument(
        "--no-report",
        dest="report",
        action="store_false",
        help=f"skip writing {gate_report.DIRECTORY}/ (and the job summary), e.g. in a hot loop",
    )
    parser.set_defaults(handler=run)
