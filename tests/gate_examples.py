"""Gate reports from synthetic holdouts, assembled the way `slipway evaluate` assembles them.

`write_example(out_dir, task, passed)` writes a report directory for a binary, multiclass (five
classes) or regression task, with a champion and the naive baseline; `passed=False` makes the
champion the stronger model, so the gate blocks. Used by tests/test_gate_report.py and the
browser test of the report's HTML.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from slipway.config import GatesConfig
from slipway.contract import ColumnSpec, Contract, TargetSpec
from slipway.gates.baseline import baseline_scores
from slipway.gates.checks import Check
from slipway.gates.compare import Resamples
from slipway.gates.evaluate import gate_metrics, guarded_checks, verdict_sentence, versus
from slipway.report import gate

TASKS = ("binary", "multiclass", "regression")
LABELS = {"binary": ("benign", "malignant"), "multiclass": ("alpha", "beta", "delta", "epsilon", "gamma")}
COLUMNS = (
    ColumnSpec("age", "feature", "integer", range=(18, 90)),
    ColumnSpec("income", "feature", "float", nullable=True),
    ColumnSpec("city", "feature", "string", categories=("Oslo", "Lima")),
    ColumnSpec("customer_id", "identifier", "string"),
)


@dataclass(frozen=True)
class Holdout:
    contract: Contract
    y: np.ndarray  # class indices or values
    train_y: np.ndarray
    strong: np.ndarray  # scores of a good model
    weak: np.ndarray  # scores of a worse one


def contract_for(task: str) -> Contract:
    if task == "regression":
        return Contract("regression", TargetSpec("price", "float", range=(0.0, 500.0)), COLUMNS)
    target = TargetSpec("diagnosis", "string", labels=LABELS[task], min_class_share=0.05)
    return Contract("classification", target, COLUMNS)


def holdout(task: str, rows: int = 240, seed: int = 3) -> Holdout:
    """A holdout and training target with a strong and a weak model's scores on the holdout."""
    rng = np.random.default_rng(seed)
    contract = contract_for(task)
    if task == "regression":
        y: np.ndarray = rng.normal(200, 60, rows)
        train = rng.normal(200, 60, rows * 3)
        return Holdout(contract, y, train, y + rng.normal(0, 15, rows), y + rng.normal(0, 45, rows))
    k = len(contract.labels)
    shares = np.linspace(2, 1, k) / np.linspace(2, 1, k).sum()  # unbalanced classes
    y = rng.choice(k, rows, p=shares)

    def model(boost: float) -> np.ndarray:
        logits = rng.normal(0, 1, (rows, k))
        logits[np.arange(rows), y] += boost
        exp = np.exp(logits)
        return exp / exp.sum(axis=1, keepdims=True)

    return Holdout(contract, y, rng.choice(k, rows * 3, p=shares), model(2.5), model(1.0))


def outcome(task: str, passed: bool) -> gate.Outcome:
    """What evaluate would pass the report: a candidate beating (or losing to) the champion."""
    data = holdout(task)
    gates = GatesConfig(
        bootstrap_samples=300, guarded=(("mae" if task == "regression" else "accuracy", 0.02),)
    )
    contract = data.contract
    candidate, champion = (data.strong, data.weak) if passed else (data.weak, data.strong)
    chosen = gate_metrics(gates, contract)
    resamples = Resamples.draw(
        len(data.y), samples=gates.bootstrap_samples, confidence=gates.confidence, seed=gates.seed
    )
    train_target = data.train_y if task == "regression" else [contract.labels[i] for i in data.train_y]
    naive = baseline_scores(train_target, contract, len(data.y))
    primary = chosen.primary
    checks = [
        Check(
            f"threshold {primary.name} (example)",
            "",
            f"{primary.compute(data.y, candidate):.4f}",
            "",
            "",
            True,
            "thresholds",
        )
    ]
    versus_baseline, check = versus("baseline", gates, primary, data.y, naive, candidate, resamples)
    checks.append(check)
    versus_champion, check = versus("champion", gates, primary, data.y, champion, candidate, resamples)
    checks += [check, *guarded_checks(chosen.guarded, data.y, champion, candidate)]
    return gate.Outcome(
        model_name=f"example-{task}",
        contract=contract,
        gates=gates,
        verdict=verdict_sentence(checks, "3"),
        passed=all(c.passed for c in checks),
        checks=checks,
        y=data.y,
        candidate=candidate,
        train_y=data.train_y,
        champion=champion,
        champion_version="3",
        baseline=naive,
        versus_champion=versus_champion,
        versus_baseline=versus_baseline,
        resamples=resamples,
    )


def write_example(out_dir: Path, task: str, passed: bool) -> Path:
    """A whole report directory for `task` (binary, multiclass, regression); returns report.html."""
    if task not in TASKS:
        raise ValueError(f"task must be one of {', '.join(TASKS)}, got {task!r}")
    gate.publish(outcome(task, passed), out_dir)
    return out_dir / gate.HTML


def verdict_of(project: Path) -> str:
    """The first line of the report `nox -s evaluate` wrote in a rendered project (its verdict), as
    text without Markdown's escapes and bold; the HTML page must be there too and inline its plots."""
    directory = project / gate.DIRECTORY
    page = (directory / gate.HTML).read_text()
    assert "data:image/png;base64," in page
    assert "<script" not in page
    first = (directory / gate.MARKDOWN).read_text().splitlines()[0]
    assert first.startswith("**")
    return first.strip("*").replace("\\", "")
