"""The registry gates in a rendered project, for real: first deploy, a worse model blocked, a better
one promoted, rollback, an unreachable registry, and bad gate settings; then the champion they
leave served (round trip, bad input) and monitored (a clean and a shifted batch)."""

from __future__ import annotations

import csv
import json
import re
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT, commit_all, git, nox, output, render_project, run
from tests.gate_examples import verdict_of
from tests.serving import call, serving, split

pytestmark = pytest.mark.e2e

# Each model is a param set; quality rises from STUMP to TREE to FOREST on the breast cancer holdout.
STUMP = {"n_estimators": "1", "max_depth": "1"}
TREE = {"n_estimators": "1", "max_depth": "3"}
FOREST = {"n_estimators": "200", "max_depth": "8"}


@pytest.fixture(scope="module")
def project(template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A default project whose thresholds admit a single decision tree (so champions can differ)."""
    path = render_project(template, tmp_path_factory.mktemp("gates") / "my-model")
    pyproject = path / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace(
            "thresholds = { roc_auc = { min = 0.95 }, accuracy = { min = 0.90 } }",
            "thresholds = { roc_auc = { min = 0.80 }, accuracy = { min = 0.80 } }",
        )
    )
    return path


def use_model(project: Path, model: dict[str, str]) -> None:
    params = project / "params.yaml"
    text = params.read_text()
    for key, value in model.items():
        text = re.sub(rf"(?m)^(  {key}): .*$", rf"\1: {value}", text)
    params.write_text(text)


def champion(project: Path) -> str:
    """The champion per `slipway history` (the gate itself: a nox session around it costs seconds)."""
    history = output(run(project, str(project / ".venv" / "bin" / "slipway"), "history"))
    return history.split("champion: version ")[-1].split()[0]


def test_first_deploy_promotes_on_thresholds_alone(project: Path) -> None:
    use_model(project, TREE)
    out = output(nox(project, "-s", "deploy"))
    assert "threshold roc_auc >= 0.8" in out
    assert "vs champion" not in out  # nothing to compare with yet
    assert "smoke: my-model version 1 served on http://127.0.0.1:" in out  # before the move
    assert "-> 422: missing column(s): mean_radius" in out
    assert "deploy: version 1 is now champion" in out
    assert champion(project) == "1"


def test_worse_model_fails_evaluate_and_changes_nothing(project: Path) -> None:
    use_model(project, STUMP)
    result = nox(project, "-s", "deploy", check=False)
    assert result.returncode != 0
    out = output(result)
    assert re.search(r"roc_auc vs champion \(CI low >= 0\)\s+\S+\s+\S+\s+-\S+\s+\[.*\]\s+FAIL", out), out
    assert "evaluate: FAIL against champion version 1" in out
    assert "registry unchanged" in out
    verdict = verdict_of(project)
    assert verdict.startswith("Evaluation gate: blocked against champion version 1: roc_auc vs champion")
    assert verdict.endswith("; registry unchanged.")
    assert "slipway deploy" not in out  # deploy never ran
    assert champion(project) == "1"


CARD_LOGGED = """
import sys, mlflow
from slipway.project import Project
project = Project.load()
uri = project.registry().get(sys.argv[1]).tags["slipway.model_card"]
path = mlflow.artifacts.download_artifacts(artifact_uri=uri, tracking_uri=project.tracking_uri)
print(uri)
print(open(path, encoding="utf-8").read(), end="")
"""


def test_better_model_passes_and_deploys_with_a_record(project: Path) -> None:
    use_model(project, FOREST)
    commit_all(project, "a forest")  # so the run, and the card, name a commit
    out = output(nox(project, "-s", "deploy"))
    assert re.search(
        r"roc_auc vs champion \(CI low >= 0\)\s+\S+\s+\S+\s+\+\S+\s+\[\+\S+, \+\S+\]\s+pass", out
    ), out
    assert verdict_of(project) == (
        "Evaluation gate: passed all 5 checks (thresholds, the naive baseline, champion version 1)."
    )
    assert "deploy: version 2 is now champion (was version 1)" in out
    assert "deploy: warning: intended use not filled in: edit docs/intended-use.md" in out
    # the model card: in reports/card/ and, the same, with the version in MLflow
    commit = git(project, "rev-parse", "HEAD").strip()
    markdown = (project / "reports" / "card" / "model-card.md").read_text()
    page = (project / "reports" / "card" / "model-card.html").read_text()
    assert markdown.startswith("# Model card: my\\-model version 2\n")
    assert "<title>Model card: my-model version 2</title>" in page
    assert f"| git commit | {commit}" in markdown
    assert f"<td>git commit</td><td>{commit}" in page
    assert "| replaced | version 1 |" in markdown
    assert re.search(
        r"\| champion it replaced \| roc\\_auc( \| \S+){3} \| \\\[\\\+\S+, \\\+\S+\\\] \|", markdown
    )
    logged = run(project, str(project / ".venv" / "bin" / "python"), "-c", CARD_LOGGED, "2").stdout
    uri, logged_markdown = logged.split("\n", 1)
    assert re.fullmatch(r"runs:/[0-9a-f]{32}/model-card/version-2/model-card\.md", uri)
    assert logged_markdown == markdown
    history = output(nox(project, "-s", "history"))
    assert re.search(rf"promote\s+2\s+1\s+.*{re.escape(uri)}", history)
    assert re.search(r"promote\s+1\s+-\s+.*runs:/\S+/model-card/version-1/model-card\.md", history)


def test_rerunning_deploy_on_the_champion_is_a_no_op(project: Path) -> None:
    """The gate itself, as `nox -s deploy` runs it after an unchanged `train` and `evaluate`."""
    deploy = output(run(project, str(project / ".venv" / "bin" / "slipway"), "deploy", "--smoke"))
    assert "deploy: version 2 (this candidate) is already champion: nothing to do" in deploy
    assert champion(project) == "2"


def test_rollback_restores_the_previous_champion(project: Path) -> None:
    out = output(nox(project, "-s", "rollback"))
    assert "rollback: version 1 is champion again (was version 2)" in out
    # reports/card/ shows the champion again: version 1's own card, as deploy logged it
    assert "rollback: model card of version 1 restored in reports/card/" in out
    assert (
        (project / "reports" / "card" / "model-card.md")
        .read_text()
        .startswith("# Model card: my\\-model version 1\n")
    )
    assert champion(project) == "1"
    history = output(nox(project, "-s", "history"))
    assert re.search(r"rollback\s+1\s+2\s+", history)


def test_rollback_to_an_explicit_version(project: Path) -> None:
    out = output(nox(project, "-s", "rollback", "--", "--to", "2"))
    assert "rollback: version 2 is champion again (was version 1)" in out
    assert (
        "<title>Model card: my-model version 2</title>"
        in (project / "reports" / "card" / "model-card.html").read_text()
    )
    result = nox(project, "-s", "rollback", "--", "--to", "9", check=False)
    assert result.returncode != 0
    assert "slipway rollback: model 'my-model' has no version 9: it has 1, 2" in output(result)
    assert champion(project) == "2"


def test_unreachable_registry_is_one_line(project: Path) -> None:
    result = nox(project, "-s", "history", check=False, env={"MLFLOW_TRACKING_URI": "http://127.0.0.1:9"})
    assert result.returncode != 0
    lines = [line for line in output(result).splitlines() if line.startswith("slipway history:")]
    assert len(lines) == 1
    assert "tracking store http://127.0.0.1:9" in lines[0]
    assert "Traceback" not in output(result)


def test_bad_gates_config_is_one_line(project: Path) -> None:
    pyproject = project / "pyproject.toml"
    original = pyproject.read_text()
    try:
        pyproject.write_text(original.replace("confidence = 0.95", "confidence = 2"))
        result = nox(project, "-s", "evaluate", check=False)
    finally:
        pyproject.write_text(original)
    assert result.returncode != 0
    assert (
        "slipway evaluate: [tool.slipway.gates] confidence must be a number in [0.5, 0.999], got 2"
        in output(result)
    )
    assert "Traceback" not in output(result)


# ---- serving and monitoring the champion these gates made -------------------------------------


def _text(url: str) -> str:
    with urllib.request.urlopen(url, timeout=30) as response:
        return str(response.read().decode())


@pytest.fixture(scope="module")
def server(project: Path) -> Iterator[str]:
    """`nox -s serve` on a free loopback port (small body limit, to test it cheaply)."""
    with serving(project, "--max-body", "200000") as base:
        yield base


def _holdout(project: Path, rows: int) -> tuple[list[str], list[list[float]]]:
    with (project / "data" / "processed" / "test.csv").open() as handle:
        table = list(csv.reader(handle))
    header = table[0]
    keep = [i for i, name in enumerate(header) if name != "target"]
    return [header[i] for i in keep], [[float(row[i]) for i in keep] for row in table[1 : rows + 1]]


def test_serve_round_trip_single_and_batch(project: Path, server: str) -> None:
    columns, data = _holdout(project, 20)
    assert call(f"{server}/health") == (200, {"status": "ok"})
    version = champion(project)
    status, ready = call(f"{server}/ready")
    assert status == 200
    assert ready["model"] == {"name": "my-model", "version": version}
    status, one = call(f"{server}/predict", split(columns, data[:1]))
    assert status == 200
    assert len(one["predictions"]) == 1
    assert one["model"]["version"] == version
    status, many = call(f"{server}/predict", split(columns, data))
    assert status == 200
    assert len(many["predictions"]) == 20
    assert set(many["predictions"]) <= {0, 1}
    assert many["predictions"][0] == one["predictions"][0]
    metrics = _text(f"{server}/metrics")
    assert 'slipway_requests_total{endpoint="/predict",status="200"}' in metrics
    assert f'slipway_model_info{{name="my-model",version="{version}"}} 1.0' in metrics


def test_serve_refuses_bad_input_with_4xx_naming_the_problem(project: Path, server: str) -> None:
    columns, data = _holdout(project, 1)
    wrong_type = [["large", *data[0][1:]]]
    cases = [
        (split(columns[1:], [data[0][1:]]), 422, "missing column(s): mean_radius"),
        (
            split(columns, wrong_type),
            422,
            "column 'mean_radius' row 0: expected a number (float), got \"large\"",
        ),
        (split(columns, []), 422, "empty batch"),
        (split(columns, data * 1000), 413, "over the limit of 200000 bytes"),
        (b"not json", 400, "not valid JSON"),
    ]
    for body, status, message in cases:
        got, answer = call(f"{server}/predict", body)
        assert (got, message in answer["error"]) == (status, True), answer
    assert call(f"{server}/ready")[0] == 200  # still serving after the bad requests


def test_serve_benchmark_smoke_round_on_this_champion(project: Path) -> None:
    """benchmarks/serve.py --smoke: both servers on this champion, one round of 16 requests per
    client count, so the benchmark reads today's project and cannot rot unnoticed (no time asserted)."""
    bench = ROOT / "benchmarks" / "serve.py"
    out = output(run(ROOT, sys.executable, str(bench), "--smoke", "--project", str(project)))
    assert "16 per round, medians of 1 rounds" in out
    for clients in (1, 8):
        assert re.search(rf"(?m)^mlflow +{clients} +[0-9.]+ +[0-9.]+ +[0-9.]+$", out), out
        assert re.search(rf"(?m)^slipway +{clients} +[0-9.]+ +[0-9.]+ +[0-9.]+$", out), out
        assert f"{clients} client(s): slipway/mlflow throughput = " in out


def _write_batch(project: Path, name: str, scale: dict[str, float]) -> Path:
    source = project / "data" / "processed" / "test.csv"
    with source.open() as handle:
        rows = list(csv.DictReader(handle))
    path = project / name
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        for row in rows:
            writer.writerow({k: float(v) * scale.get(k, 1.0) if k != "target" else v for k, v in row.items()})
    return path


def test_monitor_passes_a_clean_batch_and_writes_the_report(project: Path) -> None:
    batch = _write_batch(project, "clean.csv", {})
    result = run(project, "uvx", "nox", "-s", "monitor", "--", str(batch))
    assert "monitor: no drift past the thresholds in 30 features" in result.stdout + result.stderr
    report = json.loads((project / "reports" / "monitor" / "report.json").read_text())
    assert report["passed"] is True
    assert report["prediction"]["psi"] is not None
    html = (project / "reports" / "monitor" / "report.html").read_text()
    assert html.count("data:image/png;base64,") >= 2


def test_monitor_fails_a_shifted_batch_naming_the_features(project: Path) -> None:
    batch = _write_batch(project, "shifted.csv", {"mean_radius": 1.6, "worst_area": 2.0})
    result = run(project, "uvx", "nox", "-s", "monitor", "--", str(batch), check=False)
    assert result.returncode != 0
    output = (result.stdout + result.stderr).splitlines()
    line = next(ln for ln in output if ln.startswith("slipway monitor:"))
    assert "drift in 2 feature(s)" in line
    assert "mean_radius" in line
    assert "worst_area" in line
    report = json.loads((project / "reports" / "monitor" / "report.json").read_text())
    assert report["passed"] is False
    assert {f["name"] for f in report["features"] if f["drifted"]} == {"mean_radius", "worst_area"}


# ---- the docs site of what the flow left: a champion, its reports, a drift report ---------------


def test_docs_builds_the_site_strictly_from_the_reports(project: Path) -> None:
    out = output(nox(project, "-s", "docs"))
    assert "mkdocs build --strict" in out
    built = project / "site"
    index = (built / "index.html").read_text()
    title = (project / "README.md").read_text().splitlines()[0].removeprefix("# ")
    assert title in index  # the README is the front page
    for page in ("gate/report.html", "card/model-card.html", "monitor/index.html", "intended-use.html"):
        assert f'href="{page}"' in index  # in the nav
        assert (built / page).is_file()
    drift = project / "reports" / "monitor" / "report.html"
    assert (built / "monitor" / "report.html").read_bytes() == drift.read_bytes()
    assert '<iframe src="report.html"' in (built / "monitor" / "index.html").read_text()
    gate = project / "reports" / "gate"
    if (gate / "report.md").is_file():
        plots = list(gate.glob("*.png"))
        assert plots
        for plot in plots:
            assert (built / "gate" / plot.name).read_bytes() == plot.read_bytes()
    else:
        assert "nox -s evaluate</code> writes it" in (built / "gate" / "report.html").read_text()
    card = (built / "card" / "model-card.html").read_text()
    if (project / "reports" / "card" / "model-card.md").is_file():
        assert "not written yet" not in card
    else:
        assert "nox -s deploy</code> writes it" in card
    status = run(project, "git", "status", "--porcelain", "--untracked-files=all").stdout.splitlines()
    assert not [line for line in status if line[3:].startswith(("build/", "site/"))]  # git ignores both
