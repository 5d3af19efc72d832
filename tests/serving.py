"""A project's model served for real: `nox -s serve` on a free loopback port, and JSON calls to it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from slipway.serve.command import free_port


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
    process = subprocess.Popen(
        ["uvx", "nox", "-s", "serve", "--", "--port", str(port), *args],
        cwd=project,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        env={**os.environ},
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError("nox -s serve exited before it was ready")
            try:
                if call(f"{base}/ready")[0] == 200:
                    break
            except OSError:
                time.sleep(0.5)
        else:
            raise RuntimeError(f"the server was not ready within {timeout:g} s")
        yield base
    finally:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
