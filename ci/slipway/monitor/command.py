"""`slipway monitor BATCH.csv`: has production data drifted from what the champion was trained on?

Compares the batch with the training reference (`[tool.slipway.monitor] reference`, the DVC output
data/processed/train.csv), writes report.html and report.json, and exits 1 past the thresholds
with one line naming what drifted.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from slipway.config import load_monitor
from slipway.errors import SlipwayError


def _read(path: Path, what: str) -> Any:
    import pandas as pd

    if not path.exists():
        raise SlipwayError(f"{what} {path} not found")
    try:
        return pd.read_csv(path)
    except (ValueError, OSError) as exc:
        raise SlipwayError(f"{what} {path} is not a readable CSV table: {exc}") from None


def _champion_scores(project: Any, result: Any, reference: Any, batch: Any) -> tuple[Any, Any] | None:
    """The champion's scores on both tables, or None with a note saying why not."""
    from slipway.registry import CHAMPION

    if result.missing_columns or result.dtype_changes:
        result.prediction_note = "the batch's columns do not match the reference"
        return None
    champion = project.registry().alias(CHAMPION)
    if champion is None:
        result.prediction_note = f"model {project.config.model_name!r} has no {CHAMPION} yet"
        return None
    result.model_version = champion.version
    uri = f"models:/{project.config.model_name}/{champion.version}"
    try:
        model = project.module("tracking").load_model(uri)
        metrics = project.module("metrics")
        return (
            metrics.prediction_scores(model, reference),
            metrics.prediction_scores(model, batch[list(reference.columns)]),
        )
    except (ValueError, TypeError) as exc:
        result.prediction_note = f"the champion could not score the batch: {str(exc).splitlines()[0]}"
        return None


def run(args: argparse.Namespace) -> int:
    from slipway.monitor import check, report
    from slipway.project import Project

    project = Project.load()
    config = load_monitor(project.root / "pyproject.toml")
    target = project.module("params").load_params(project.root / "params.yaml").data.target
    if not (project.root / config.reference).exists():
        raise SlipwayError(f"no reference: {config.reference} is missing; run `nox -s train` first")
    reference = _read(project.root / config.reference, "reference")
    batch = _read(Path(args.batch), "batch")
    reference = reference.drop(columns=[target], errors="ignore")
    batch = batch.drop(columns=[target], errors="ignore")
    if batch.empty:
        raise SlipwayError(f"batch {args.batch} has no rows")
    result = check.compare(reference, batch, config)
    scores = _champion_scores(project, result, reference, batch)
    if scores is not None:
        check.prediction_drift(result, scores[0], scores[1], config)
    out_dir = Path(args.out) if args.out else project.root / config.report_dir
    _, html_path = report.write(result, out_dir, reference, batch, Path(args.batch).name, scores)
    problems = result.problems()
    if problems:
        raise SlipwayError(f"{'; '.join(problems)} (report: {html_path})")
    checked = len(result.features)
    print(
        f"monitor: no drift past the thresholds in {checked} features of {result.batch_rows} rows"
        f" (report: {html_path})"
    )
    return 0


def add_command(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("monitor", help="compare a batch with the training data; fail on drift")
    parser.add_argument("batch", help="CSV table of production inputs (same columns as the training data)")
    parser.add_argument("--out", help="report directory (default: [tool.slipway.monitor] report_dir)")
    parser.set_defaults(handler=run)
