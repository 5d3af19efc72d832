"""Scale-out: the gates run unchanged against a real MLflow tracking server on PostgreSQL.

A throwaway PostgreSQL 15 cluster on a loopback port backs `mlflow server`, which proxies model
artifacts to a local directory (`--serve-artifacts`), as a team server proxies them to object
storage. A default project then trains, gates, deploys, promotes a second model and rolls back,
all through HTTP, and the server's registry is read back directly with MlflowClient.

Nothing is skipped: without PostgreSQL's binaries the test fails (`.ci/install-postgres`).
"""

from __future__ import annotations

import json
import os
import pwd
import re
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from slipway.serve.command import free_port

from tests.conftest import render_project, run

pytestmark = pytest.mark.e2e

PG_BIN_DIRS = (Path("/usr/lib/postgresql/15/bin"), Path("/usr/local/bin"))
# The server runs from its own env, pinned like the projects' mlflow; psycopg2 for the backend.
# The registry is read back from the same env: a client independent of the project's sessions.
MLFLOW_ENV = ("uvx", "--from", "mlflow>=3.17,<4", "--with", "psycopg2-binary")
MLFLOW = (*MLFLOW_ENV, "mlflow")
READY_TIMEOUT = 60.0  # seconds for `mlflow server` to answer /health
HANG_GUARD = 60.0  # seconds a command against an unreachable server may take before we call it a hang
MODEL = "my-model"  # the default answers' registered model name (project_slug)
DB_USER = DB_NAME = "mlflow"
DB_PASSWORD = "slipway-test"  # a throwaway cluster on loopback
EVENT_ROW = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d ")  # a row of `history`'s table


def pg_bin(name: str) -> str:
    """A PostgreSQL 15 program; a missing one fails the test (CI installs them), never skips it."""
    for directory in PG_BIN_DIRS:
        if (directory / name).is_file():
            return str(directory / name)
    pytest.fail(
        f"PostgreSQL 15 `{name}` not found in {', '.join(map(str, PG_BIN_DIRS))}: "
        "run .ci/install-postgres (Debian's `postgresql` package)"
    )


def as_postgres(*cmd: str) -> list[str]:
    """initdb and the server refuse to run as root: run them as the `postgres` OS user then."""
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else list(cmd)


@dataclass(frozen=True)
class Postgres:
    port: int
    url: str  # SQLAlchemy URL of the MLflow database


@pytest.fixture(scope="module")
def postgres() -> Iterator[Postgres]:
    """A PostgreSQL 15 cluster on a free loopback port with an `mlflow` user and database."""
    initdb, pg_ctl, psql = pg_bin("initdb"), pg_bin("pg_ctl"), pg_bin("psql")
    # Not under pytest's tmp dir: that is mode 0700 and owned by root, out of the postgres user's reach.
    base = Path(tempfile.mkdtemp(prefix="slipway-pg-"))
    if os.geteuid() == 0:
        owner = pwd.getpwnam("postgres")
        os.chown(base, owner.pw_uid, owner.pw_gid)
    data, log = base / "data", base / "server.log"
    port = free_port()
    # Local (socket) connections trust, TCP ones need the password: the server connects over TCP.
    auth = ("--auth-local=trust", "--auth-host=scram-sha-256")
    run(base, *as_postgres(initdb, "-D", str(data), "-U", "postgres", "-E", "UTF8", "--no-sync", *auth))
    options = f"-c listen_addresses=127.0.0.1 -p {port} -k {base} -c fsync=off"
    run(base, *as_postgres(pg_ctl, "-D", str(data), "-l", str(log), "-o", options, "-w", "start"))
    try:
        psql_cmd = (psql, "-h", str(base), "-p", str(port), "-U", "postgres", "-v", "ON_ERROR_STOP=1")
        run(base, *psql_cmd, "-c", f"CREATE USER {DB_USER} WITH PASSWORD '{DB_PASSWORD}'")
        run(base, *psql_cmd, "-c", f"CREATE DATABASE {DB_NAME} OWNER {DB_USER}")
        yield Postgres(port, f"postgresql+psycopg2://{DB_USER}:{DB_PASSWORD}@127.0.0.1:{port}/{DB_NAME}")
    finally:
        run(base, *as_postgres(pg_ctl, "-D", str(data), "-m", "fast", "-w", "stop"), check=False)
        shutil.rmtree(base, ignore_errors=True)


@dataclass(frozen=True)
class Server:
    uri: str
    artifacts: Path  # the --artifacts-destination the server proxies model files to
    ready_seconds: float


def wait_until_ready(uri: str, process: subprocess.Popen[bytes], log: Path) -> float:
    """Poll /health until it answers; fail with the server's log if it dies or takes too long."""
    start = time.monotonic()
    while time.monotonic() - start < READY_TIMEOUT:
        if process.poll() is not None:
            pytest.fail(f"mlflow server exited {process.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{uri}/health", timeout=2) as response:
                if response.status == 200:
                    return time.monotonic() - start
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.5)
    pytest.fail(f"mlflow server not ready at {uri} within {READY_TIMEOUT:g} s:\n{log.read_text()}")


@pytest.fixture(scope="module")
def tracking_server(postgres: Postgres, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`mlflow server` on the cluster, proxying artifacts to a temp dir, on a free loopback port."""
    base = tmp_path_factory.mktemp("mlflow-server")
    artifacts, log = base / "artifacts", base / "server.log"
    artifacts.mkdir()
    run(base, *MLFLOW, "--version")  # build the server's env first: the ready bound times only the start
    port = free_port()
    uri = f"http://127.0.0.1:{port}"
    env = {**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}  # else GiBs of job workers
    cmd = [
        *MLFLOW,
        "server",
        "--backend-store-uri",
        postgres.url,
        "--artifacts-destination",
        str(artifacts),
        "--serve-artifacts",
        "--workers",
        "1",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    with log.open("wb") as out:
        # Its own process group, so teardown stops uvx, mlflow and uvicorn together.
        process = subprocess.Popen(
            cmd, cwd=base, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        ready = wait_until_ready(uri, process, log)
        print(f"mlflow server ready in {ready:.1f} s")
        yield Server(uri, artifacts, ready)
    finally:
        stop(process)


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the server's process group, SIGKILL it if it lingers."""
    for sig, grace in ((signal.SIGTERM, 20), (signal.SIGKILL, 5)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=grace)
            return
        except subprocess.TimeoutExpired:
            continue


@pytest.fixture(scope="module")
def project(template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project rendered with default answers."""
    return render_project(template, tmp_path_factory.mktemp("server-project") / "my-model")


@pytest.fixture(scope="module")
def dvc_site_cache(tmp_path_factory: pytest.TempPathFactory) -> str:
    return str(tmp_path_factory.mktemp("dvc-site-cache"))


def output(result: subprocess.CompletedProcess[str]) -> str:
    """nox streams a command's stderr into its own stdout: judge both."""
    return result.stdout + result.stderr


@dataclass(frozen=True)
class Journey:
    """What each step printed, in order: first deploy, second deploy, rollback, history."""

    first: str
    second: str
    rollback: str
    history: str


@pytest.fixture(scope="module")
def journey(project: Path, tracking_server: Server, dvc_site_cache: str) -> Journey:
    """train -> evaluate -> deploy twice, then rollback and history, all through the server."""
    env = {"MLFLOW_TRACKING_URI": tracking_server.uri, "DVC_SITE_CACHE_DIR": dvc_site_cache}
    first = run(project, "uvx", "nox", "-s", "train", "evaluate", "deploy", env=env)

    # A second model: another forest seed. It scores within noise of the first (CI of the ROC AUC
    # improvement around [-0.003, +0.002]), so the default min_improvement = 0.0 (CI low >= 0)
    # rejects it; a non-inferiority margin of 0.01 lets it through, as a team might configure.
    params = project / "params.yaml"
    before, header, model = params.read_text().partition("\nmodel:\n")
    assert "  seed: 42\n" in model, params.read_text()
    params.write_text(before + header + model.replace("  seed: 42\n", "  seed: 7\n"))
    pyproject = project / "pyproject.toml"
    assert "\nmin_improvement = 0.0\n" in pyproject.read_text()
    pyproject.write_text(
        pyproject.read_text().replace("\nmin_improvement = 0.0\n", "\nmin_improvement = -0.01\n")
    )
    second = run(project, "uvx", "nox", "-s", "train", "evaluate", "deploy", env=env)

    rollback = run(project, "uvx", "nox", "-s", "rollback", env=env)
    history = run(project, "uvx", "nox", "-s", "history", env=env)
    return Journey(output(first), output(second), output(rollback), output(history))


def test_first_deploy_promotes_version_1(journey: Journey) -> None:
    assert "evaluate: pass; registered version 1 as challenger" in journey.first
    assert "deploy: version 1 is now champion; recorded by" in journey.first


def test_second_model_passes_the_gate_and_deploy_promotes_it(journey: Journey) -> None:
    assert "roc_auc vs champion (CI low >= -0.01)" in journey.second
    assert "evaluate: pass; registered version 2 as challenger" in journey.second
    assert "deploy: version 2 is now champion (was version 1)" in journey.second


def test_rollback_restores_version_1(journey: Journey) -> None:
    assert "rollback: version 1 is champion again (was version 2)" in journey.rollback
    rows = [line.split() for line in journey.history.splitlines() if EVENT_ROW.match(line)]
    events = [row[1:4] for row in rows]
    assert events == [["promote", "1", "-"], ["promote", "2", "1"], ["rollback", "1", "2"]]
    champion_lines = [line for line in journey.history.splitlines() if line.startswith("champion:")]
    assert champion_lines == ["champion: version 1"]


QUERY = """
import json, sys
from mlflow import MlflowClient

uri, name = sys.argv[1:3]
client = MlflowClient(tracking_uri=uri, registry_uri=uri)
versions = {}
for v in client.search_model_versions(f"name = '{name}'"):
    model_id = v.source.removeprefix("models:/")
    versions[v.version] = {
        "events": sorted(
            json.loads(value)["kind"] for key, value in v.tags.items() if key.startswith("slipway.event.")
        ),
        "verdict": v.tags.get("slipway.verdict"),
        "artifact_location": client.get_logged_model(model_id).artifact_location,
    }
aliases = dict(client.get_registered_model(name).aliases)
print(json.dumps({"aliases": aliases, "versions": versions}))
"""


def test_server_registry_holds_aliases_records_and_proxied_artifacts(
    journey: Journey, project: Path, tracking_server: Server
) -> None:
    del journey  # the state it left on the server is what is checked
    result = run(project, *MLFLOW_ENV, "python", "-c", QUERY, tracking_server.uri, MODEL)
    state = json.loads(result.stdout.strip().splitlines()[-1])
    assert state["aliases"] == {"champion": "1"}  # deploy removed challenger; rollback moved champion
    versions = state["versions"]
    assert sorted(versions) == ["1", "2"]
    assert versions["1"]["events"] == ["promote", "rollback"]
    assert versions["2"]["events"] == ["promote"]
    for number, version in versions.items():
        assert version["verdict"] == "pass", number
        location = version["artifact_location"]
        # proxied: clients see mlflow-artifacts:/, the server wrote the files to its destination
        assert location.startswith("mlflow-artifacts:/"), location
        stored = tracking_server.artifacts / location.removeprefix("mlflow-artifacts:/")
        assert (stored / "MLmodel").is_file(), f"version {number}: no MLmodel under {stored}"
    assert not (project / "mlflow.db").exists(), "something fell back to the local SQLite store"


def test_unreachable_server_fails_in_one_line(project: Path, dvc_site_cache: str) -> None:
    uri = f"http://127.0.0.1:{free_port()}"  # closed: nothing listens there
    env = {**os.environ, "MLFLOW_TRACKING_URI": uri, "DVC_SITE_CACHE_DIR": dvc_site_cache}
    # Install first, so the hang guard below times only the gate's call to the server.
    run(project, "uvx", "nox", "-s", "history", "--install-only", env=env)
    try:
        result = subprocess.run(
            ["uvx", "nox", "-s", "history"],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=HANG_GUARD,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"`nox -s history` against {uri} hung past {HANG_GUARD:g} s")
    assert result.returncode != 0
    lines = [line for line in output(result).splitlines() if line.startswith("slipway history:")]
    assert len(lines) == 1, output(result)
    assert f"tracking store {uri}" in lines[0]
    assert "Traceback" not in result.stderr
    assert "Traceback" not in result.stdout
