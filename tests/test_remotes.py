"""Cloud data remotes end to end: S3 (moto) and Azure Blob Storage (Azurite) on loopback ports.

The flow a team follows: render with an s3:// or azure:// remote, give the endpoint and the key the
way the README says (never in a tracked file), `nox -s data-push`, and a fresh clone whose
`nox -s train` pulls what it lacks. Bad keys and unreachable remotes fail in one line each.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

import boto3
import pytest

from tests.conftest import commit_all, git, output, render_project
from tests.emulators import AZURITE_KEY, Emulator, azurite, free_port, moto_s3

pytestmark = pytest.mark.e2e
BUCKET = "slipway-data"  # also the Azure container
RAW = Path("data") / "raw" / "breast_cancer.csv"
TIMES: dict[str, float] = {}  # seconds per step, printed at the end (`pytest -s`) for the closing note


def base_env(home: Path) -> dict[str, str]:
    """This process's environment without cloud settings; no credential file or metadata server to find."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "AZURE_"))}
    env.update(
        {
            "AWS_SHARED_CREDENTIALS_FILE": str(home / "aws-credentials"),
            "AWS_CONFIG_FILE": str(home / "aws-config"),
            "AWS_EC2_METADATA_DISABLED": "true",
            "AZURE_CONFIG_DIR": str(home / "azure"),
        }
    )
    return env


def session(
    project: Path, env: Mapping[str, str], *args: str, label: str = ""
) -> subprocess.CompletedProcess[str]:
    """`uvx nox ARGS` in `project` with exactly `env`; its wall time is kept under `label`."""
    start = time.monotonic()
    result = subprocess.run(
        ["uvx", "nox", *args], cwd=project, env=dict(env), capture_output=True, text=True, check=False
    )
    if label:
        TIMES[label] = round(time.monotonic() - start, 1)
    return result


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, f"{result.args} exited {result.returncode}:\n{output(result)}"
    return output(result)


def one_line_failure(result: subprocess.CompletedProcess[str], *names: str) -> str:
    """The run failed, saying why in exactly one line of ours that names each of `names`."""
    text = output(result)
    assert result.returncode != 0, text
    ours = [line for line in text.splitlines() if line.startswith("slipway data:")]
    assert len(ours) == 1, text
    for name in names:
        assert name in ours[0], ours[0]
    for noise in ("Traceback", "Having any troubles", " pushed", " fetched"):  # no trace, no success
        assert noise not in text, text
    return ours[0]


@pytest.fixture(scope="module", autouse=True)
def report_times() -> Iterator[None]:
    """Print each timed step after the module (`pytest -s` shows it): figures for the issue's note."""
    yield
    print("\n".join(f"{label}: {seconds} s" for label, seconds in TIMES.items()))


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cloud-home")


@pytest.fixture(scope="module")
def s3() -> Iterator[Emulator]:
    with moto_s3(BUCKET) as emulator:
        yield emulator


@pytest.fixture(scope="module")
def azure(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    with azurite(tmp_path_factory.mktemp("azurite")) as emulator:
        yield emulator


def s3_objects(s3: Emulator) -> list[str]:
    client = boto3.client(
        "s3",
        endpoint_url=s3.endpoint,
        region_name="us-east-1",
        aws_access_key_id=s3.env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=s3.env["AWS_SECRET_ACCESS_KEY"],
    )
    return [item["Key"] for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", [])]


def blobs(project: Path, azure: Emulator, *, create: bool = False) -> list[str]:
    """The container's blob names, via the project's own Azure SDK (created first if `create`)."""
    script = (
        "import os, sys, json\n"
        "from azure.storage.blob import BlobServiceClient\n"
        "service = BlobServiceClient.from_connection_string(os.environ['AZURE_STORAGE_CONNECTION_STRING'])\n"
        f"container = service.get_container_client({BUCKET!r})\n"
        "if sys.argv[1] == 'create': container.create_container()\n"
        "print(json.dumps([blob.name for blob in container.list_blobs()]))\n"
    )
    python = str(project / ".venv" / "bin" / "python")
    env = {**os.environ, **azure.env}
    result = subprocess.run(
        [python, "-c", script, "create" if create else "list"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return list(json.loads(result.stdout))


@pytest.fixture(scope="module")
def s3_project(template: Path, tmp_path_factory: pytest.TempPathFactory, s3: Emulator, home: Path) -> Path:
    """A project with an s3:// remote, its endpoint set the README's way: in the git-ignored config.local."""
    project = render_project(
        template, tmp_path_factory.mktemp("s3") / "my-model", dvc_remote=f"s3://{BUCKET}/dvc"
    )
    dvc = str(project / ".venv" / "bin" / "dvc")
    subprocess.run(
        [dvc, "remote", "modify", "--local", "storage", "endpointurl", s3.endpoint], cwd=project, check=True
    )
    commit_all(project, "rendered")
    return project


@pytest.fixture(scope="module")
def azure_project(template: Path, tmp_path_factory: pytest.TempPathFactory, azure: Emulator) -> Path:
    """A project with an azure:// remote; the team's container exists, the key is only in the environment."""
    project = render_project(
        template, tmp_path_factory.mktemp("azure") / "my-model", dvc_remote=f"azure://{BUCKET}/dvc"
    )
    blobs(project, azure, create=True)
    commit_all(project, "rendered")
    return project


# ---- a missing or wrong key: one line naming the variable, nothing pushed ---------------------


@pytest.mark.parametrize(
    ("case", "env"),
    [
        ("missing", {}),
        ("wrong", {"AWS_ACCESS_KEY_ID": "AKIAWRONGWRONGWRONG0", "AWS_SECRET_ACCESS_KEY": "wrong"}),
    ],
)
def test_s3_bad_key_fails_in_one_line_pushing_nothing(
    s3_project: Path, s3: Emulator, home: Path, case: str, env: dict[str, str]
) -> None:
    result = session(s3_project, {**base_env(home), **env}, "-s", "data-push", label=f"s3 {case} key")
    one_line_failure(result, "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
    assert s3_objects(s3) == []


@pytest.mark.parametrize("case", ["missing", "wrong"])
def test_azure_bad_key_fails_in_one_line_pushing_nothing(
    azure_project: Path, azure: Emulator, home: Path, case: str
) -> None:
    good = azure.env["AZURE_STORAGE_CONNECTION_STRING"]
    env = (
        {}
        if case == "missing"
        else {"AZURE_STORAGE_CONNECTION_STRING": good.replace(AZURITE_KEY, "d3Jvbmc=")}
    )
    result = session(azure_project, {**base_env(home), **env}, "-s", "data-push", label=f"azure {case} key")
    one_line_failure(result, "AZURE_STORAGE_CONNECTION_STRING")
    assert blobs(azure_project, azure) == []


# ---- the round trip ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def s3_first(s3_project: Path, s3: Emulator, home: Path) -> Path:
    """The first clone trains and pushes data and pipeline outputs, then commits dvc.lock."""
    env = {**base_env(home), **s3.env}
    ok(session(s3_project, env, "-s", "train"))
    ok(session(s3_project, env, "-s", "data-push", label="s3 push"))
    commit_all(s3_project, "trained")
    return s3_project


def fresh_clone(project: Path, dest: Path) -> Path:
    git(project, "clone", "--quiet", str(project), str(dest))
    assert not (dest / RAW).exists()
    assert not (dest / ".dvc" / "cache").exists()
    return dest


@pytest.fixture(scope="module")
def s3_clone(s3_first: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return fresh_clone(s3_first, tmp_path_factory.mktemp("s3-clone") / "my-model")


def test_unreachable_remote_fails_each_data_session_in_one_line(
    s3_clone: Path, s3: Emulator, home: Path
) -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    env = {**base_env(home), **s3.env, "AWS_ENDPOINT_URL": closed}
    for args in (("data-push",), ("data-pull",), ("train",)):
        result = session(s3_clone, env, "-s", *args, label=f"closed port {args[0]}")
        assert closed in one_line_failure(result, "AWS_ENDPOINT_URL")
    assert not (s3_clone / RAW).exists()


def metrics(project: Path) -> dict[str, float]:
    return dict(json.loads((project / "reports" / "metrics.json").read_text()))


def test_s3_fresh_clone_trains_on_pulled_data_and_outputs(
    s3_clone: Path, s3_first: Path, s3: Emulator, home: Path
) -> None:
    # A teammate's clone has no config.local: the endpoint comes from the environment this time.
    env = {**base_env(home), **s3.env, "AWS_ENDPOINT_URL": s3.endpoint}
    out = ok(session(s3_clone, env, "-s", "train", label="s3 clone train (pull)"))
    assert "pulling from the DVC remote" in out
    assert "Running stage" not in out  # the first clone's model and reports came through S3 intact
    assert (s3_clone / RAW).read_bytes() == (s3_first / RAW).read_bytes()
    assert metrics(s3_clone) == metrics(s3_first)
    status = subprocess.run(
        [str(s3_clone / ".venv" / "bin" / "dvc"), "status", "--cloud"], cwd=s3_clone, env=env,
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert "Cache and remote 'storage' are in sync." in status.stdout


def test_azure_fresh_clone_trains_to_the_first_clones_metrics(
    azure_project: Path, azure: Emulator, s3_first: Path, home: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Only the data goes through Azure: the clone retrains from it, to the S3 project's numbers."""
    env = {**base_env(home), **azure.env}
    ok(session(azure_project, env, "-s", "data-push", label="azure push"))
    clone = fresh_clone(azure_project, tmp_path_factory.mktemp("azure-clone") / "my-model")
    out = ok(session(clone, env, "-s", "train", label="azure clone train (pull + repro)"))
    assert "pulling from the DVC remote" in out
    assert "Running stage 'train'" in out
    assert (clone / RAW).read_bytes() == (s3_first / RAW).read_bytes()
    assert metrics(clone) == metrics(s3_first)
    ok(session(clone, env, "-s", "data-push"))  # the clone's outputs join the data
    status = subprocess.run(
        [str(clone / ".venv" / "bin" / "dvc"), "status", "--cloud"], cwd=clone, env=env,
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert "Cache and remote 'storage' are in sync." in status.stdout


def test_no_key_reaches_a_tracked_file(s3_first: Path, azure_project: Path, s3: Emulator) -> None:
    secrets = (s3.env["AWS_ACCESS_KEY_ID"], s3.env["AWS_SECRET_ACCESS_KEY"], AZURITE_KEY)
    for project in (s3_first, azure_project):
        assert "endpointurl" not in (project / ".dvc" / "config").read_text()
        for secret in secrets:
            found = subprocess.run(
                ["git", "grep", "-F", secret], cwd=project, capture_output=True, check=False
            )
            assert found.returncode == 1, f"{secret} in a tracked file of {project}"
    assert "endpointurl" in (s3_first / ".dvc" / "config.local").read_text()
    git(s3_first, "check-ignore", "--quiet", ".dvc/config.local")
    assert ".dvc/config.local" not in git(s3_first, "status", "--porcelain", "--ignored=no")
