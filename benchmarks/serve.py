"""Serving benchmark: `mlflow models serve` vs `slipway serve`, same champion, same load, one run.

    uv run python benchmarks/serve.py                    # renders, trains and deploys a project first
    uv run python benchmarks/serve.py --project DIR      # a project after `nox -s train evaluate deploy`
    uv run python benchmarks/serve.py --project DIR --smoke  # one round of 16 requests: does it run?

Both servers run on loopback with one worker, from the project's environment (`.venv`). The load
is bounded: per round, REQUESTS 1-row requests (the model's logged input example, first row)
spread over CONCURRENCY keep-alive connections from a small asyncio client in this process.
Rounds alternate between the servers; the table shows medians over the rounds of p50, p99 (ms)
and requests per second.

Measured on the 2-core dev machine (shared, load ~5), default classification project (forest of 200
trees), 400 requests per round, 5 rounds:

    server   clients   p50 ms   p99 ms    req/s
    mlflow         1     22.4     59.9     35.9
    slipway        1     12.9     35.0     70.3      1.96x
    mlflow         8    184.1    416.1     41.9
    slipway        8     29.6     75.2    245.0      5.85x

A second run (`uv run python benchmarks/serve.py --rounds 5 --requests 300`, fresh project):
1 client 15.8 / 39.4 ms, 54.8 req/s (mlflow) vs 10.8 / 22.4 ms, 84.1 req/s (slipway), 1.53x;
8 clients 119.4 / 298.7 ms, 59.1 req/s vs 23.8 / 51.6 ms, 333.5 req/s, 5.64x.

One client: slipway skips pyfunc's per-request schema machinery. Eight: requests that queue while
the model is busy are scored in one call, and a forest's per-call overhead dwarfs its per-row cost.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from slipway.config import ProjectConfig, load_project, tracking_uri
from slipway.environment import PYCACHE
from slipway.errors import SlipwayError
from slipway.serve.command import free_port

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"


def prepare_project(workdir: Path) -> Path:
    """Render a default project from the working tree, then train, gate and deploy it."""
    sys.path.insert(0, str(ROOT))
    from tests.conftest import render_project, snapshot_working_tree

    template = snapshot_working_tree(workdir / "template")
    project = render_project(template, workdir / "bench-model", project_name="Bench Model")
    subprocess.run(["uvx", "nox", "-s", "train", "evaluate", "deploy"], cwd=project, check=True)
    return project


def project_config(project: Path) -> ProjectConfig:
    """The project's `[tool.slipway]` settings, read by the same reader its gates use."""
    try:
        return load_project(project / "pyproject.toml")
    except SlipwayError as error:
        sys.exit(str(error))


def example_row(project: Path) -> bytes:
    """First row of the champion's logged serving example, as `dataframe_split` JSON."""
    found = sorted(project.glob("mlruns/**/artifacts/serving_input_example.json"))
    if not found:
        sys.exit(f"no logged serving_input_example.json under {project}/mlruns: train the project first")
    split = json.loads(found[-1].read_text())["dataframe_split"]
    return json.dumps({"dataframe_split": {"columns": split["columns"], "data": split["data"][:1]}}).encode()


def wait_ready(url: str, process: subprocess.Popen[bytes], timeout: float = 180) -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if process.poll() is not None:
            sys.exit(f"server exited with {process.returncode} before {url} answered")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return time.monotonic() - start
        except OSError:
            pass
        time.sleep(0.2)
    sys.exit(f"{url} not ready within {timeout} s")


async def _one_connection(port: int, path: str, body: bytes, count: int, latencies: list[float]) -> None:
    reader, writer = await asyncio.open_connection(HOST, port)
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    try:
        for _ in range(count):
            start = time.perf_counter()
            writer.write(head + body)
            await writer.drain()
            status_line = await reader.readline()
            length = 0
            while True:
                line = await reader.readline()
                if line in (b"\r\n", b""):
                    break
                name, _, value = line.decode().partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            payload = await reader.readexactly(length)
            latencies.append(time.perf_counter() - start)
            if b" 200 " not in status_line:
                raise RuntimeError(f"{path}: {status_line!r} {payload[:200]!r}")
    finally:
        writer.close()


async def load(port: int, path: str, body: bytes, requests: int, concurrency: int) -> dict[str, float]:
    latencies: list[float] = []
    per_connection = [requests // concurrency + (i < requests % concurrency) for i in range(concurrency)]
    start = time.perf_counter()
    await asyncio.wait_for(
        asyncio.gather(*(_one_connection(port, path, body, n, latencies) for n in per_connection)),
        timeout=600,
    )
    elapsed = time.perf_counter() - start
    ordered = sorted(latencies)
    return {
        "p50": 1000 * ordered[len(ordered) // 2],
        "p99": 1000 * ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))],
        "rps": len(ordered) / elapsed,
    }


Servers = dict[str, tuple[subprocess.Popen[bytes], int, str]]


def stop_servers(servers: Servers) -> None:
    """Stop each server and its children (mlflow runs uvicorn in a child process)."""
    for process, _, _ in servers.values():
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


def start_servers(project: Path, config: ProjectConfig, servers: Servers) -> None:
    # The project's shared `.venv` (sessions sync it with every group), or an older per-session venv.
    venv = next(
        (
            env / "bin"
            for env in (project / ".venv", project / ".nox" / "deploy")
            if (env / "bin" / "mlflow").exists()
        ),
        None,
    )
    if venv is None:
        sys.exit(f"no environment with mlflow in {project}: run `uvx nox -s deploy` there first")
    env = {
        **os.environ,
        "PATH": f"{venv}{os.pathsep}{os.environ['PATH']}",  # mlflow starts `uvicorn` from PATH
        "MLFLOW_TRACKING_URI": tracking_uri(config, project),
        "MLFLOW_DISABLE_TELEMETRY": "true",
        # the bytecode the project's sessions compiled (`nox -s deploy` served this model): start fast
        "PYTHONPYCACHEPREFIX": str(project / PYCACHE),
        "PYTHONDONTWRITEBYTECODE": "",
    }
    mlflow_port, slipway_port = free_port(), free_port()
    # Own process groups, so stopping a server stops its workers too.
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "start_new_session": True}
    mlflow_cmd = [
        str(venv / "mlflow"), "models", "serve", "-m", f"models:/{config.model_name}@champion",
        "--env-manager", "local", "-h", HOST, "-p", str(mlflow_port), "-w", "1",
    ]  # fmt: skip
    servers["mlflow"] = (
        subprocess.Popen(mlflow_cmd, cwd=project, env=env, **quiet),  # type: ignore[call-overload]
        mlflow_port,
        "/invocations",
    )
    slipway_cmd = [str(venv / "python"), "-m", "slipway.cli", "serve", "--port", str(slipway_port)]
    servers["slipway"] = (
        subprocess.Popen(slipway_cmd, cwd=project, env=env, **quiet),  # type: ignore[call-overload]
        slipway_port,
        "/predict",
    )
    for label, (process, port, _) in servers.items():
        ready = "/ping" if label == "mlflow" else "/ready"
        seconds = wait_ready(f"http://{HOST}:{port}{ready}", process)
        print(f"{label}: ready in {seconds:.1f} s on port {port}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--project", type=Path, help="a deployed project (default: render and deploy one)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=400, help="requests per round and server")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--smoke", action="store_true", help="one round of 16 requests (the suite runs it)")
    args = parser.parse_args()
    if args.smoke:
        args.rounds, args.requests = 1, 16
    workdir = None
    if args.project is None:
        workdir = Path(tempfile.mkdtemp(prefix="slipway-serve-bench-"))
        args.project = prepare_project(workdir)
    project = args.project.resolve()
    body = example_row(project)
    servers: Servers = {}
    results: dict[tuple[str, int], list[dict[str, float]]] = {}
    try:
        start_servers(project, project_config(project), servers)
        for _, port, path in servers.values():  # warm-up: first requests pay lazy imports
            asyncio.run(load(port, path, body, min(50, args.requests), 2))
        for concurrency in args.concurrency:
            for round_ in range(args.rounds):
                order = list(servers) if round_ % 2 == 0 else list(reversed(servers))
                for label in order:
                    _, port, path = servers[label]
                    measured = asyncio.run(load(port, path, body, args.requests, concurrency))
                    results.setdefault((label, concurrency), []).append(measured)
    finally:
        stop_servers(servers)
        if workdir is not None:
            shutil.rmtree(workdir, ignore_errors=True)
    print(
        f"\n1-row requests, {args.requests} per round, medians of {args.rounds} rounds,"
        " loopback, 1 worker each"
    )
    print(f"{'server':<8} {'clients':>7} {'p50 ms':>8} {'p99 ms':>8} {'req/s':>8}")
    for (label, concurrency), rounds in sorted(results.items(), key=lambda item: (item[0][1], item[0][0])):
        median = {key: statistics.median(r[key] for r in rounds) for key in ("p50", "p99", "rps")}
        print(
            f"{label:<8} {concurrency:>7} {median['p50']:>8.1f} {median['p99']:>8.1f} {median['rps']:>8.1f}"
        )
    for concurrency in args.concurrency:
        base = statistics.median(r["rps"] for r in results[("mlflow", concurrency)])
        ours = statistics.median(r["rps"] for r in results[("slipway", concurrency)])
        print(f"{concurrency} client(s): slipway/mlflow throughput = {ours / base:.2f}x")


if __name__ == "__main__":
    main()
