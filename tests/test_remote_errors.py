"""slipway.remotes on its own: which remote and endpoint a project names, and DVC's failures in one line.

The DVC messages below are what DVC 3.67 printed against moto and Azurite (tests/test_remotes.py
runs the real thing end to end).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from slipway.errors import SlipwayError
from slipway.remotes import Endpoint, Remote, default_remote, endpoint, explain, probe

from tests.emulators import free_port

S3 = Remote(name="storage", url="s3://bucket/dvc", options={})
AZURE = Remote(name="storage", url="azure://container/dvc", options={})


def write_config(root: Path, shared: str, local: str | None = None) -> Path:
    (root / ".dvc").mkdir()
    (root / ".dvc" / "config").write_text(shared)
    if local is not None:
        (root / ".dvc" / "config.local").write_text(local)
    return root


SHARED = "[core]\n    remote = storage\n['remote \"storage\"']\n    url = s3://bucket/dvc\n"


def test_the_local_config_adds_to_the_shared_remote(tmp_path: Path) -> None:
    local = "['remote \"storage\"']\n    endpointurl = http://127.0.0.1:9000\n"
    remote = default_remote(write_config(tmp_path, SHARED, local))
    assert remote == Remote("storage", "s3://bucket/dvc", {"endpointurl": "http://127.0.0.1:9000"})
    assert remote.scheme == "s3"


def test_no_default_remote(tmp_path: Path) -> None:
    assert default_remote(write_config(tmp_path, "[core]\n    analytics = false\n")) is None


def test_the_remotes_endpointurl_wins_over_the_environment() -> None:
    remote = Remote("storage", "s3://bucket/dvc", {"endpointurl": "http://minio:9000"})
    found = endpoint(remote, {"AWS_ENDPOINT_URL": "http://other:9000"})
    assert found is not None
    assert found.url == "http://minio:9000"
    assert "dvc remote modify --local storage endpointurl" in found.source
    assert endpoint(S3, {"AWS_ENDPOINT_URL": "http://other:9000"}) == Endpoint(
        "http://other:9000", "AWS_ENDPOINT_URL"
    )
    assert endpoint(S3, {}) is None  # AWS itself: nothing to probe


def test_azure_endpoint_comes_from_the_connection_string() -> None:
    emulator = "AccountName=a;AccountKey=k;BlobEndpoint=http://127.0.0.1:10000/a;"
    assert endpoint(AZURE, {"AZURE_STORAGE_CONNECTION_STRING": emulator}) == Endpoint(
        "http://127.0.0.1:10000/a", "AZURE_STORAGE_CONNECTION_STRING"
    )
    assert endpoint(AZURE, {"AZURE_STORAGE_CONNECTION_STRING": "AccountName=a;AccountKey=k"}) is None


def test_a_closed_port_fails_at_once_naming_where_it_was_set() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(SlipwayError, match=rf"{url} does not answer .*: start it, or fix AWS_ENDPOINT_URL$"):
        probe(Endpoint(url, "AWS_ENDPOINT_URL"), {})
    probe(Endpoint(url, "AWS_ENDPOINT_URL"), {"HTTPS_PROXY": "http://proxy:3128"})  # the SDK's to judge


AWS_KEYS = "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
CASES = [
    (S3, "ERROR: unexpected error - Unable to locate credentials\n\nHaving any troubles? ...",
     f"no AWS credentials for the DVC remote s3://bucket/dvc: set {AWS_KEYS}"),
    (S3, "ERROR: unexpected error - Forbidden: An error occurred (403) when calling the HeadObject",
     f"the DVC remote s3://bucket/dvc refused the AWS credentials: check {AWS_KEYS}"),
    (S3, 'ERROR: unexpected error - Could not connect to the endpoint URL: "http://127.0.0.1:9/b"',
     "the DVC remote s3://bucket/dvc does not answer"),
    (AZURE, "ERROR: configuration error - Authentication to Azure Blob Storage requires either "
     "account_name or connection_string.",
     "no Azure credentials for the DVC remote azure://container/dvc: set AZURE_STORAGE_CONNECTION_STRING"),
    (AZURE, "ERROR: unexpected error - Operation returned an invalid status 'Server failed to "
     "authenticate the request.'\nErrorCode:AuthorizationFailure",
     "refused the Azure credentials: check AZURE_STORAGE_CONNECTION_STRING"),
    (AZURE, "ERROR: failed to transfer 'b154' - [Errno 2] No such container: 'container'\n"
     "ERROR: failed to push data to the cloud - 1 files failed to upload",
     "the container of the DVC remote azure://container/dvc does not exist"),
    (S3, "ERROR: failed to pull data from the cloud - Checkout failed\nERROR: some other failure",
     "some other failure"),
]  # fmt: skip


@pytest.mark.parametrize(("remote", "dvc_output", "line"), CASES)
def test_dvc_failures_become_one_line(remote: Remote, dvc_output: str, line: str) -> None:
    explained = explain(remote, dvc_output)
    assert line in explained
    assert "\n" not in explained


def test_a_named_remote_is_read_instead_of_the_default(tmp_path: Path) -> None:
    other = "['remote \"backup\"']\n    url = azure://container/dvc\n"
    remote = default_remote(write_config(tmp_path, SHARED + other), "backup")
    assert remote == Remote("backup", "azure://container/dvc", {})
