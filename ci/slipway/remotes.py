"""`slipway data push|pull`: DVC's transfers with the remote's failures told in one line naming the fix.

DVC reports a missing key, a refused key or an unreachable endpoint as "unexpected error" after its
SDK has retried for up to minutes (Azure's, on a closed port). An endpoint the team set explicitly
(`endpointurl`, AWS_ENDPOINT_URL, the connection string's BlobEndpoint) is probed first, and what
DVC prints on failure is translated to the variable or command that fixes it.
"""

from __future__ import annotations

import argparse
import configparser
import os
import socket
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from slipway.errors import SlipwayError

PROBE_SECONDS = 5.0  # a live endpoint accepts a TCP connection well within this
PROXY_VARIABLES = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy")
AWS_KEYS = "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
AZURE_KEY = "AZURE_STORAGE_CONNECTION_STRING"


@dataclass(frozen=True)
class Remote:
    """The project's default DVC remote, as `.dvc/config` and the git-ignored `.dvc/config.local` set it."""

    name: str
    url: str
    options: Mapping[str, str]  # the remote's other keys (endpointurl, connection_string, ...)

    @property
    def scheme(self) -> str:
        return self.url.split("://", 1)[0] if "://" in self.url else ""


@dataclass(frozen=True)
class Endpoint:
    """A server address the team chose, and where it was set (what to fix when it does not answer)."""

    url: str
    source: str


def _read_config(root: Path) -> configparser.ConfigParser:
    config = configparser.ConfigParser(interpolation=None)
    for path in (root / ".dvc" / "config", root / ".dvc" / "config.local"):  # the local file wins
        if path.is_file():  # DVC indents keys, which configparser would read as continuation lines
            config.read_string("\n".join(line.strip() for line in path.read_text().splitlines()))
    return config


def default_remote(root: Path, name: str | None = None) -> Remote | None:
    """The remote `name` (default: the one `core.remote` names), merged over both config files."""
    config = _read_config(root)
    name = name or config.get("core", "remote", fallback="")
    section = f"'remote \"{name}\"'"
    if not name or not config.has_section(section):
        return None
    options = dict(config.items(section))
    return Remote(name=name, url=options.pop("url", ""), options=options)


def _blob_endpoint(connection_string: str) -> str | None:
    parts = dict(item.split("=", 1) for item in connection_string.split(";") if "=" in item)
    return parts.get("BlobEndpoint")


def endpoint(remote: Remote, env: Mapping[str, str]) -> Endpoint | None:
    """The endpoint set explicitly for this remote (DVC's config before the environment), if any."""
    if remote.scheme == "s3":
        if "endpointurl" in remote.options:
            source = f"the remote's endpointurl (`dvc remote modify --local {remote.name} endpointurl URL`)"
            return Endpoint(remote.options["endpointurl"], source)
        for variable in ("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"):
            if env.get(variable):
                return Endpoint(env[variable], variable)
    if remote.scheme == "azure":
        if "connection_string" in remote.options:
            found = _blob_endpoint(remote.options["connection_string"])
            source = f"the connection_string of remote {remote.name}"
            return Endpoint(found, source) if found else None
        found = _blob_endpoint(env.get(AZURE_KEY, ""))
        return Endpoint(found, AZURE_KEY) if found else None
    return None


def probe(target: Endpoint, env: Mapping[str, str], timeout: float = PROBE_SECONDS) -> None:
    """Fail in one line when nothing accepts a connection at the endpoint (skipped behind a proxy)."""
    if any(env.get(variable) for variable in PROXY_VARIABLES):
        return  # the SDK goes through the proxy; a direct connection proves nothing
    parts = urlsplit(target.url)
    if not parts.hostname:
        raise SlipwayError(f"{target.source} gives '{target.url}', which is not a URL: fix it there")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        socket.create_connection((parts.hostname, port), timeout=timeout).close()
    except OSError as exc:
        raise SlipwayError(
            f"the DVC remote's endpoint {parts.scheme}://{parts.netloc} does not answer "
            f"({exc.strerror or type(exc).__name__}): start it, or fix {target.source}"
        ) from None


# (scheme, what DVC's output contains, the line to print); `{url}` is the remote's URL.
EXPLANATIONS: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("s3", ("Unable to locate credentials",),
     f"no AWS credentials for the DVC remote {{url}}: set {AWS_KEYS} (or AWS_PROFILE)"),
    ("s3", ("InvalidAccessKeyId", "SignatureDoesNotMatch", "Forbidden", "AccessDenied", "ExpiredToken"),
     f"the DVC remote {{url}} refused the AWS credentials: check {AWS_KEYS} (and the key's access)"),
    ("s3", ("NoSuchBucket",), "the bucket of the DVC remote {url} does not exist: create it, or fix the URL"),
    ("s3", ("Could not connect to the endpoint URL",),
     "the DVC remote {url} does not answer: check the network, or AWS_ENDPOINT_URL if you use one"),
    ("azure", ("requires either account_name or connection_string",),
     f"no Azure credentials for the DVC remote {{url}}: set {AZURE_KEY}"),
    ("azure", ("AuthorizationFailure", "AuthenticationFailed", "failed to authenticate"),
     f"the DVC remote {{url}} refused the Azure credentials: check {AZURE_KEY}"),
    ("azure", ("No such container", "ContainerNotFound"),
     "the container of the DVC remote {url} does not exist: create it, or fix the URL"),
    ("azure", ("Cannot connect to host",),
     f"the DVC remote {{url}} does not answer: check the network, or the BlobEndpoint in {AZURE_KEY}"),
)  # fmt: skip


def explain(remote: Remote | None, output: str) -> str:
    """One line for a failed DVC transfer: the fix when the failure is known, else DVC's own error."""
    if remote is not None:
        for scheme, needles, line in EXPLANATIONS:
            if scheme == remote.scheme and any(needle in output for needle in needles):
                return line.format(url=remote.url)
    errors = [
        line.removeprefix("ERROR: ").strip() for line in output.splitlines() if line.startswith("ERROR:")
    ]
    return (
        errors[-1] if errors else (output.strip().splitlines() or ["DVC gave no reason (run it with -v)"])[-1]
    )


def transfer(action: str, args: list[str], root: Path, env: Mapping[str, str]) -> None:
    """`dvc ACTION ARGS` in `root`; raises SlipwayError with one line when it fails."""
    chosen = [args[i + 1] for i, arg in enumerate(args[:-1]) if arg in ("-r", "--remote")]
    remote = default_remote(root, chosen[-1] if chosen else None)
    if remote is not None:
        target = endpoint(remote, env)
        if target is not None:
            probe(target, env)
    # botocore's legacy mode makes 5 attempts, each wrapped in s3fs's own retries; "standard" makes 3.
    run_env = {"AWS_RETRY_MODE": "standard", **env}
    # DVC's --quiet hides its errors too: keep them for the one line, and print nothing on success.
    quiet = any(arg in ("-q", "--quiet") for arg in args)
    result = subprocess.run(
        [sys.executable, "-m", "dvc", action, *[arg for arg in args if arg not in ("-q", "--quiet")]],
        cwd=root,
        env=run_env,
        stdout=subprocess.PIPE if quiet else None,
        stderr=subprocess.PIPE,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise SlipwayError(f"dvc {action} failed: {explain(remote, result.stderr)}")
    if not quiet:
        sys.stderr.write(result.stderr)


def run(args: argparse.Namespace) -> int:
    transfer(args.action, list(args.dvc_args), Path.cwd(), dict(os.environ))
    return 0


def add_command(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("data", help="push or pull DVC-tracked data; failures in one line")
    parser.add_argument("action", choices=["push", "pull"])
    parser.add_argument("dvc_args", nargs=argparse.REMAINDER, help="passed to `dvc push|pull`")
    parser.set_defaults(handler=run)
