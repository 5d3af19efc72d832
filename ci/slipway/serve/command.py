"""`slipway serve --port PORT` runs the app for the champion; `slipway smoke` checks it answers.

The smoke test starts the server for the champion on a free loopback port, sends the model's
logged input example (expects predictions, one per row, from the champion's version, and as many
rows of class probabilities when the model is a classifier) and the same example without its first
column (expects a 4xx naming that column), then stops the server.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import replace
from pathlib import Path
from typing import Any

from slipway.config import ServeConfig
from slipway.errors import SlipwayError
from slipway.registry import CHAMPION

LOOPBACK = "127.0.0.1"


def serve(args: argparse.Namespace) -> int:
    from slipway.config import load_serve
    from slipway.serve import server
    from slipway.serve.app import create_app
    from slipway.serve.follow import champion_follower
    from slipway.serve.model import load_champion

    limits = serve_limits(load_serve(), args)
    served = load_champion(Path(), alias=args.alias, max_rows=limits.max_rows)
    # only a server of the champion follows it (the smoke test serves the challenger before it moves)
    following = limits.follow_champion_seconds > 0 and args.alias == CHAMPION
    follower = champion_follower(Path(), limits) if following else None
    app = create_app(served, limits, follower)
    following_note = (
        f", following the champion every {limits.follow_champion_seconds:g} s" if follower is not None else ""
    )
    print(
        f"serve: {served.name} version {served.version} on http://{args.host}:{args.port}{following_note}",
        flush=True,
    )
    server.run(app, args.host, args.port, limits)
    return 0


def serve_limits(limits: ServeConfig, args: argparse.Namespace) -> ServeConfig:
    """`[tool.slipway.serve]`, with what the command line sets instead."""
    flags = {  # key -> (flag, value, smallest allowed)
        "max_rows": ("--max-rows", args.max_rows, 1),
        "max_body_bytes": ("--max-body", args.max_body, 1),
        "follow_champion_seconds": ("--follow-champion", args.follow_champion, 0),
    }
    for flag, value, low in flags.values():
        if value is not None and value < low:
            raise SlipwayError(f"serve: {flag} must be at least {low}, got {value}")
    return replace(limits, **{key: value for key, (_, value, _) in flags.items() if value is not None})


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def request(url: str, body: Any = None, timeout: float = 10.0) -> tuple[int, dict[str, Any]]:
    """(status, JSON answer) of a GET, or a POST when `body` is given; HTTP errors are answers too."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        text = error.read()
        try:
            return error.code, json.loads(text)
        except ValueError:
            return error.code, {"error": text.decode(errors="replace")}


def wait_ready(process: subprocess.Popen[bytes], base: str, timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SlipwayError(f"the server exited with code {process.returncode} before it was ready")
        try:
            status, answer = request(f"{base}/ready", timeout=2)
            if status == 200:
                return answer
        except OSError:
            pass
        time.sleep(0.25)
    raise SlipwayError(f"the server was not ready within {timeout:g} s")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def check_answers(base: str, example: dict[str, Any], version: str) -> list[str]:
    """Send the example and a malformed copy; return what the smoke test saw, or raise."""
    split = example.get("dataframe_split")
    if not isinstance(split, dict) or not split.get("columns"):
        raise SlipwayError("the champion's input example is not in dataframe_split form")
    status, answer = request(f"{base}/predict", example)
    rows = len(split["data"])
    if status != 200 or len(answer.get("predictions", [])) != rows:
        raise SlipwayError(
            f"the input example got {status} {json.dumps(answer)[:200]}; expected {rows} predictions"
        )
    probabilities = answer.get("probabilities")
    if probabilities is not None and len(probabilities) != rows:
        raise SlipwayError(
            f"the input example got {len(probabilities)} rows of probabilities, expected {rows}"
        )
    if str(answer.get("model", {}).get("version")) != version:
        raise SlipwayError(f"answers came from version {answer.get('model')}, expected {version}")
    dropped = split["columns"][0]
    malformed = {
        "dataframe_split": {
            "columns": split["columns"][1:],
            "data": [row[1:] for row in split["data"]],
        }
    }
    bad_status, bad = request(f"{base}/predict", malformed)
    if not (400 <= bad_status < 500 and dropped in str(bad.get("error", ""))):
        raise SlipwayError(
            f"a request without column {dropped!r} got {bad_status} {json.dumps(bad)[:200]};"
            " expected a 4xx naming it"
        )
    return [
        f"example ({rows} rows) -> 200, {rows} predictions",
        f"without {dropped!r} -> {bad_status}: {bad['error']}",
    ]


def smoke(args: argparse.Namespace) -> int:
    smoke_alias(args.alias, port=args.port, timeout=args.timeout)
    return 0


def smoke_alias(alias: str = CHAMPION, *, port: int = 0, timeout: float = 120.0) -> str:
    """Serve the version `alias` points at, check two answers, stop; returns the version tested."""
    port = port or free_port()
    base = f"http://{LOOPBACK}:{port}"
    command = [sys.executable, "-m", "slipway.cli", "serve", "--host", LOOPBACK, "--port", str(port)]
    command += ["--alias", alias]
    process = subprocess.Popen(command, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        ready = wait_ready(process, base, timeout)
        model = ready["model"]
        example = fetch_example(model["name"], model["version"])
        seen = check_answers(base, example, str(model["version"]))
    finally:
        stop(process)
    print(f"smoke: {model['name']} version {model['version']} served on {base}: " + "; ".join(seen))
    return str(model["version"])


def fetch_example(name: str, version: str) -> dict[str, Any]:
    """The serving input example logged with the model version, from the registry."""
    import mlflow

    from slipway.config import load_project, tracking_uri
    from slipway.registry import reaching

    uri = tracking_uri(load_project(), Path.cwd())
    source = f"models:/{name}/{version}/serving_input_example.json"
    with reaching(uri, f"downloading {source}"):
        path = mlflow.artifacts.download_artifacts(artifact_uri=source, tracking_uri=uri)
    return dict(json.loads(Path(path).read_text()))


def add_command(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("serve", help="serve the champion model over HTTP until interrupted")
    parser.add_argument("--port", type=int, default=8080, help="port to listen on (default 8080)")
    parser.add_argument("--host", default=LOOPBACK, help="address to bind (default 127.0.0.1)")
    # Limits come from [tool.slipway.serve] (slipway.config.ServeConfig); these flags override it.
    parser.add_argument("--max-rows", type=int, help="largest batch accepted, in rows")
    parser.add_argument("--max-body", type=int, help="largest request body, in bytes")
    parser.add_argument(
        "--follow-champion", type=float, help="seconds between checks of the champion alias (0: never)"
    )
    parser.add_argument("--alias", default=CHAMPION, help="the registry alias to serve (default champion)")
    parser.set_defaults(handler=serve)
    check = subparsers.add_parser(
        "smoke", help="start the server for the champion, check two answers, stop it"
    )
    check.add_argument("--port", type=int, default=0, help="port to use (default: a free one)")
    check.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for readiness")
    check.add_argument("--alias", default=CHAMPION, help="the registry alias to test (default champion)")
    check.set_defaults(handler=smoke)
