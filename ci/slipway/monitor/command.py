"""`slipway monitor BATCH`: has production data drifted from what the champion was trained on?

Compares the batch (CSV or Parquet) with the training reference (`[tool.slipway.monitor]
reference`, the DVC output data/processed/train.csv), feature by feature as the champion's
contract types them (the workspace contract.yaml before there is a champion), writes report.html
and report.json, and exits 1 past the thresholds with one line naming what drifted.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from slipway.config import load_monitor
from slipway.errors import SlipwayError, first_line

if TYPE_CHECKING:
    import numpy as np

    from slipway.contract import Contract
    from slipway.monitor.check import MonitorResult
    from slipway.monitor.tables import Tables
    from slipway.package import ModelPackage
    from slipway.project import Project
    from slipway.registry import Version


def champion_contract(project: Project, champion: Version) -> Contract | None:
    """The contract logged with the champion's model (its MLmodel metadata), or None if it has none."""
    import mlflow
    from mlflow.models import Model

    from slipway.registry import reaching
    from slipway.serve.model import model_contract

    source = f"models:/{project.config.model_name}/{champion.version}"
    with reaching(project.tracking_uri, f"downloading {source}/MLmodel"):
        path = mlflow.artifacts.download_artifacts(
            artifact_uri=f"{source}/MLmodel", tracking_uri=project.tracking_uri
        )
    return model_contract(Model.load(path), source)


def _contract(project: Project, champion: Version | None) -> tuple[Contract, str]:
    """The champion's contract, else the workspace's; and which one it is, for the report."""
    if champion is None:
        return project.contract, "contract.yaml (no champion yet)"
    contract = champion_contract(project, champion)
    if contract is None:
        return (
            project.contract,
            f"contract.yaml (model version {champion.version} was logged without one)",
        )
    return contract, f"model version {champion.version}"


def _champion_scores(
    project: Project,
    champion: Version | None,
    contract: Contract,
    tables: Tables,
    result: MonitorResult,
) -> tuple[np.ndarray, np.ndarray] | None:
    """The champion's scores on both tables, or None with a note saying why not."""
    import mlflow

    from slipway.registry import CHAMPION

    if not tables.complete:
        result.prediction_note = "the batch lacks features or has values of the wrong type"
        return None
    if champion is None:
        result.prediction_note = f"model {project.config.model_name!r} has no {CHAMPION} yet"
        return None
    uri = f"models:/{project.config.model_name}/{champion.version}"
    mlflow.set_tracking_uri(project.tracking_uri)  # the project's store, also outside nox
    model = project.load_model(uri, f"{CHAMPION} version {champion.version}")
    return score_tables(
        project.api, model, contract, tables, result, f"{project.config.package}.api on {uri}"
    )


def score_tables(
    api: ModelPackage, model: Any, contract: Contract, tables: Tables, result: MonitorResult, what: str
) -> tuple[np.ndarray, np.ndarray] | None:
    """The model's scores on reference and batch; a failure or a non-finite score fails the gate.

    Recorded as `result.prediction_error` (the report is still written), never skipped silently:
    a champion that cannot score production data is the worst drift there is.
    """
    import numpy as np

    expected = (len(contract.labels),) if contract.is_classification else ()
    scores = []
    for name, table in (("reference", tables.reference), ("batch", tables.batch)):
        try:
            score = np.asarray(api.predict_scores(model, table, contract), dtype=float)
        except Exception as exc:  # the project's model: any error means it cannot score this table
            first = first_line(exc, 200)
            result.prediction_error = f"the champion could not score the {name}: {first}"
            result.prediction_note = result.prediction_error
            return None
        if score.shape != (len(table), *expected):
            raise SlipwayError(
                f"{what}: predict_scores gave shape {score.shape}, expected {(len(table), *expected)}"
            )
        bad = int(np.count_nonzero(~np.isfinite(score)))
        if bad:
            result.prediction_error = f"the champion gave {bad} non-finite score(s) on the {name}"
            result.prediction_note = result.prediction_error
            return None
        scores.append(score)
    return scores[0], scores[1]


def run(args: argparse.Namespace) -> int:
    from slipway.contract.coerce import read_table
    from slipway.monitor import check, report
    from slipway.monitor.batch import read_batch
    from slipway.monitor.tables import typed_tables
    from slipway.project import Project
    from slipway.registry import CHAMPION

    project = Project.load()
    config = load_monitor(project.root / "pyproject.toml")
    if not (project.root / config.reference).exists():
        raise SlipwayError(f"no reference: {config.reference} is missing; run `nox -s train` first")
    reference = read_table(project.root / config.reference)
    batch = read_batch(Path(args.batch), config)
    champion = project.registry().alias(CHAMPION)
    if champion is not None:
        project.ours(champion)  # a foreign champion is refused before its contract is read
    contract, source = _contract(project, champion)
    tables = typed_tables(reference, batch, contract, config.reference)
    result = check.compare(tables, contract, config)
    result.contract = source
    if champion is not None:
        result.model_version = champion.version
    scores = _champion_scores(project, champion, contract, tables, result)
    predictions = None
    if scores is not None:
        predictions = check.prediction_drift(result, scores[0], scores[1], contract, config)
    out_dir = Path(args.out) if args.out else project.root / config.report_dir
    _, html_path = report.write(result, out_dir, tables, Path(args.batch).name, predictions)
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
    parser.add_argument("batch", help="CSV or Parquet table of production inputs (as the training table)")
    parser.add_argument("--out", help="report directory (default: [tool.slipway.monitor] report_dir)")
    parser.set_defaults(handler=run)
