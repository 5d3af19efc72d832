"""A project's model served for real: `nox -s serve` on a free loopback port, and JSON calls to it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from slipway.serve.command import free_port

ROOT = Path(__file__).resolve().parents[1]
# slipway's own env plus what a project's `serve` group and dependencies add: `slipway serve` as a
# project runs it, without rendering one (the pins are the template's).
SERVE_ENV = (
    "uv",
    "run",
    "--project",
    str(ROOT),
    "--frozen",
    "--quiet",
    *("--with", "fastapi>=0.115", "--with", "uvicorn>=0.32", "--with", "prometheus-client>=0.21"),
    *("--with", "mlflow>=3.17,<4", "--with", "skops>=0.13"),
)


def call(url: str, body: bytes | None = None) -> tuple[int, dict[str, Any]]:
    """(status, JSON answer) of a GET, or a POST of `body`; HTTP errors are answers too."""
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def split(columns: list[str], data: list[list[Any]]) -> bytes:
    """A `dataframe_split` request body."""
    return json.dumps({"dataframe_split": {"columns": columns, "data": data}}).encode()


@contextmanager
def serving(project: Path, *args: str, timeout: float = 240) -> Iterator[str]:
    """`nox -s serve -- --port PORT ARGS` until the block ends; yields the base URL once ready."""
    port = free_port()
    command = ["uvx", "nox", "-s", "serve", "--", "--port", str(port), *args]
    with started(command, project, port, timeout=timeout) as (base, _):
        yield base


@contextmanager
def started(
    command: Sequence[str],
    cwd: Path,
    port: int,
    *,
    timeout: float = 240,
    env: dict[str, str] | None = None,
    log: Path | None = None,
    ready: int = 200,
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """Run a server command until the block ends; yields its base URL once /ready answers `ready`."""
    with open(log or os.devnull, "wb") as out:
        process = subprocess.Popen(
            command,
            cwd=cwd,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={**os.environ, **(env or {})},
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"{' '.join(command[:6])} ... exited before it was ready")
            try:
                if call(f"{base}/ready")[0] == ready:
                    break
            except OSError:
                time.sleep(0.5)
        else:
            raise RuntimeError(f"the server was not ready within {timeout:g} s")
        yield base, process
    finally:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def descendant(pid: int, marker: str) -> int:
    """The process under `pid` (a child of a child, say, under `uv run`) whose command line has `marker`."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    for child in parents:
        ancestor = parents.get(child)
        while ancestor not in (None, 0, 1, pid):
            ancestor = parents.get(ancestor)
        if ancestor == pid:
            try:
                if marker in Path(f"/proc/{child}/cmdline").read_bytes().decode(errors="replace"):
                    return child
            except OSError:
                continue
    raise LookupError(f"no process under {pid} runs {marker!r}")


def memory_mb(pid: int) -> dict[str, float]:
    """VmRSS (now) and VmHWM (peak) of a process, in MB, from /proc/<pid>/status."""
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            found[key] = int(value.split()[0]) / 1024
    return found
