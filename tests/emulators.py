"""Cloud storage emulators on free loopback ports, started and stopped by the tests themselves.

S3 is moto's server (a thread in the test process); Azure Blob Storage is Azurite, installed from
npm by .ci/install-node-tools into .ci/node/. Each gives the remote's URL and the environment a
team would set (credentials, endpoint), never anything written into the project.
"""

from __future__ import annotations

import ctypes
import fcntl
import logging
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

PR_SET_PDEATHSIG = 1  # prctl(2)
ROOT = Path(__file__).resolve().parents[1]
NODE_DIR = ROOT / ".ci" / "node"

S3_POLICY = '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}'

# Azurite's one well-known development account (documented by Microsoft, the same everywhere).
AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


@dataclass(frozen=True)
class Emulator:
    """A running storage emulator: the bucket or container it serves and how a client reaches it."""

    endpoint: str  # http://127.0.0.1:PORT (for Azurite, with the account path)
    env: dict[str, str]  # what a team exports: credentials and, where the tool reads it, the endpoint


def free_port() -> int:
    """A loopback port nothing listens on right now (the OS picks it)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, *, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise AssertionError(f"nothing listens on 127.0.0.1:{port} after {timeout:.0f} s")


@contextmanager
def moto_s3(bucket: str) -> Iterator[Emulator]:
    """moto's S3 server on a free port with `bucket` created and an IAM user's key allowed into it.

    moto accepts any key until told to check: after the setup requests it checks every signature,
    so a wrong key is refused as AWS refuses it.
    """
    import boto3
    from moto import settings
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one log line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        _, port = server.get_host_and_port()
        endpoint = f"http://127.0.0.1:{port}"
        setup = {"endpoint_url": endpoint, "region_name": "us-east-1"}
        setup |= {"aws_access_key_id": "setup", "aws_secret_access_key": "setup"}
        iam = boto3.client("iam", **setup)
        iam.create_user(UserName="slipway-tests")
        iam.put_user_policy(UserName="slipway-tests", PolicyName="s3", PolicyDocument=S3_POLICY)
        key = iam.create_access_key(UserName="slipway-tests")["AccessKey"]
        boto3.client("s3", **setup).create_bucket(Bucket=bucket)
        check = urllib.request.Request(
            f"{endpoint}/moto-api/reset-auth", data=b"0", headers={"Content-Type": "text/plain"}
        )
        urllib.request.urlopen(check, timeout=10).close()  # from now on every request is checked
        env = {
            "AWS_ACCESS_KEY_ID": key["AccessKeyId"],
            "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"],
            "AWS_DEFAULT_REGION": "us-east-1",
        }
        yield Emulator(endpoint=endpoint, env=env)
    finally:
        server.stop()
        settings.INITIAL_NO_AUTH_ACTION_COUNT = float("inf")  # moto's default, for later users


def azurite_bin() -> Path:
    """azurite-blob from .ci/node, installing it first (a lock keeps xdist workers in line)."""
    NODE_DIR.mkdir(parents=True, exist_ok=True)
    with (NODE_DIR / ".install.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        result = subprocess.run(
            [str(ROOT / ".ci" / "install-node-tools")], capture_output=True, text=True, check=False
        )
    assert result.returncode == 0, (
        "the Azure tests need Azurite from npm: .ci/install-node-tools failed "
        f"(is node >= 18 with npm installed?):\n{result.stdout}\n{result.stderr}"
    )
    return NODE_DIR / "node_modules" / ".bin" / "azurite-blob"


def azurite_connection_string(port: int, key: str = AZURITE_KEY) -> str:
    return (
        f"DefaultEndpointsProtocol=http;AccountName={AZURITE_ACCOUNT};AccountKey={key};"
        f"BlobEndpoint=http://127.0.0.1:{port}/{AZURITE_ACCOUNT};"
    )


_prctl = ctypes.CDLL(None, use_errno=True).prctl  # looked up here: the child calls it, loads nothing


def _die_with_parent() -> None:
    """Runs in the child before exec: the kernel stops Azurite if the test process dies unannounced."""
    _prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


@contextmanager
def azurite(location: Path) -> Iterator[Emulator]:
    """Azurite's blob service on a free port, its state in `location`; stopped on exit."""
    port = free_port()
    process = subprocess.Popen(
        # --skipApiVersionCheck: the Azure SDK may speak a newer API version than this Azurite knows
        [str(azurite_bin()), "--blobHost", "127.0.0.1", "--blobPort", str(port),
         "--location", str(location), "--silent", "--skipApiVersionCheck"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        preexec_fn=_die_with_parent,
    )  # fmt: skip
    try:
        wait_for_port(port)
        env = {"AZURE_STORAGE_CONNECTION_STRING": azurite_connection_string(port)}
        yield Emulator(endpoint=f"http://127.0.0.1:{port}/{AZURITE_ACCOUNT}", env=env)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
