"""Serving under hostile input and load, readiness on the logged example, following the champion.

Unit (no server): the request schema on the hostile payloads, `[tool.slipway.serve]` and the flags
over it, the readiness check and the follower's swap rules. Real server: `slipway serve` on loopback
for a sqlite MLflow store of three versions (tests/serve_subject.py), in slipway's env plus the
template's serve group; the hostile payloads, a slow body, half-sent request heads and a bounded
load test during which `/health` keeps answering, with the server's peak memory measured. Every
wait is bounded; times are printed (`pytest -s`) and asserted only against generous bounds.
"""

from __future__ import annotations

import argparse
import http.client
import json
import logging
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from slipway.config import ConfigError, ServeConfig, load_serve
from slipway.errors import SlipwayError
from slipway.serve.command import free_port, serve_limits
from slipway.serve.follow import Follower, example_problem
from slipway.serve.model import Scored, ServedModel
from slipway.serve.schema import Column, InputError, InputSchema, Kind

from tests.serving import ROOT, SERVE_ENV, call, descendant, memory_mb, started

# ---- the hostile payloads ---------------------------------------------------------------------

FEATURES = [f"f{i}" for i in range(30)]
DEEP = 100_000


def _split(columns: list[str], data: list[list[Any]]) -> bytes:
    return json.dumps({"dataframe_split": {"columns": columns, "data": data}}, separators=(",", ":")).encode()


def _many_names(columns: list[str]) -> bytes:
    """60,001 column names, one of them twice (0.8 MB): quadratic duplicate detection took ~63 s."""
    names = columns + [f"extra_{i}" for i in range(60_000 - len(columns))] + [columns[0]]
    return _split(names, [[0.5] * len(names)])


def _long_integer(columns: list[str]) -> bytes:
    """A 401-digit integer where a float belongs: float() of it overflows."""
    row = json.dumps([0.5] * (len(columns) - 1))[1:-1]
    data = f"[[{'9' * 401}, {row}]]"
    return f'{{"dataframe_split": {{"columns": {json.dumps(columns)}, "data": {data}}}}}'.encode()


def _deep() -> bytes:
    """JSON nested 100,000 deep: the parser runs out of recursion."""
    return b'{"dataframe_split": ' + b"[" * DEEP + b"]" * DEEP + b"}"


HOSTILE: dict[str, tuple[Callable[[list[str]], bytes], int, str]] = {
    "60,001 names, one duplicated": (_many_names, 413, "60001 columns is over the limit of 1000"),
    "401-digit integer": (_long_integer, 422, "expected a number (float), got an integer too large"),
    "100,000-deep nesting": (lambda columns: _deep(), 400, "nested too deeply"),
}
LEAKS = ("Traceback", "Error:", "Exception", "Overflow", "Recursion", "line ", "maximum recursion")


def _schema(max_columns: int = 1_000) -> InputSchema:
    columns = tuple(Column(name, "float", "number") for name in FEATURES)
    return InputSchema(columns, max_columns=max_columns)


@pytest.mark.parametrize("payload", list(HOSTILE))
def test_each_hostile_payload_is_a_4xx_in_our_words_in_bounded_time(payload: str) -> None:
    make, status, message = HOSTILE[payload]
    body = make(FEATURES)
    start = time.perf_counter()
    with pytest.raises(InputError) as error:
        _schema().parse(body)
    took = time.perf_counter() - start
    print(f"{payload}: {error.value.status} in {took * 1000:.1f} ms: {error.value}")
    assert (error.value.status, message in str(error.value)) == (status, True), str(error.value)
    assert not any(leak in str(error.value) for leak in LEAKS)
    assert took < 5  # generous: the quadratic check took ~63 s


def test_duplicate_names_are_found_in_one_pass_even_when_many_are_allowed() -> None:
    start = time.perf_counter()
    with pytest.raises(InputError, match=r"duplicate column\(s\): 'f0'$"):
        _schema(max_columns=100_000).parse(_many_names(FEATURES))
    assert time.perf_counter() - start < 5  # `list.count` per name: ~63 s


@pytest.mark.parametrize(
    ("value", "kind"),
    [(2**64, "whole"), (-(2**63) - 1, "whole"), (10**400, "number"), (10**400, "whole")],
)
def test_integers_the_model_cannot_hold_are_refused(value: int, kind: Kind) -> None:
    schema = InputSchema((Column("n", "long" if kind == "whole" else "float", kind),))
    with pytest.raises(InputError) as error:
        schema.parse(_split(["n"], [[value]]))
    assert error.value.status == 422
    assert "column 'n' row 0: expected" in str(error.value)


def test_bad_utf8_and_bad_json_are_400s_naming_where_not_quoting_python() -> None:
    for body, message in [
        (b'{"a": "\xff"}', "body is not valid JSON: it is not UTF-8 text"),
        (b'{"dataframe_split": [1,}', "body is not valid JSON: Expecting value at line 1 column 24"),
    ]:
        with pytest.raises(InputError) as error:
            _schema().parse(body)
        assert (error.value.status, str(error.value)) == (400, message)


# ---- [tool.slipway.serve] and the flags over it ----------------------------------------------


def test_serve_config_defaults_values_and_one_line_errors(tmp_path: Path) -> None:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[tool.slipway]\npackage = "m"\n')
    defaults = load_serve(pyproject)
    assert defaults == ServeConfig()
    assert defaults.max_in_flight * defaults.max_body_bytes <= 200 * 1024**2  # bodies held at once
    pyproject.write_text(
        '[tool.slipway]\npackage = "m"\n[tool.slipway.serve]\nmax_rows = 500\nbody_timeout_seconds = 3\n'
        "follow_champion_seconds = 0\n"
    )
    config = load_serve(pyproject)
    assert (config.max_rows, config.body_timeout_seconds, config.follow_champion_seconds) == (500, 3.0, 0.0)
    for line, message in [
        ("max_rows = 0", "max_rows must be an integer 1-10000000, got 0"),
        ("max_in_flight = 2.5", "max_in_flight must be an integer 1-100000, got 2.5"),
        ("body_timeout_seconds = true", r"body_timeout_seconds must be a number in \[0.1, 3600\], got True"),
        ("max_body = 10", r"unknown key 'max_body': expected one of body_timeout_seconds, "),
    ]:
        pyproject.write_text(f'[tool.slipway]\npackage = "m"\n[tool.slipway.serve]\n{line}\n')
        with pytest.raises(ConfigError, match=r"^\[tool.slipway.serve\] " + message):
            load_serve(pyproject)


def test_serve_flags_override_the_config_and_are_checked() -> None:
    flags = argparse.Namespace(max_rows=50, max_body=None, follow_champion=0.0)
    limits = serve_limits(ServeConfig(), flags)
    assert (limits.max_rows, limits.max_body_bytes, limits.follow_champion_seconds) == (
        50,
        ServeConfig.max_body_bytes,
        0.0,
    )
    with pytest.raises(SlipwayError, match="serve: --max-body must be at least 1, got 0"):
        serve_limits(ServeConfig(), argparse.Namespace(max_rows=None, max_body=0, follow_champion=None))


# ---- readiness and the follower ---------------------------------------------------------------


def _served(version: str, example: Any = "good", predict: Callable[..., Scored] | None = None) -> ServedModel:
    schema = InputSchema((Column("x", "float", "number"),))
    if example == "good":
        example = {"dataframe_split": {"columns": ["x"], "data": [[1.0], [2.0]]}}

    def constant(columns: dict[str, list[Any]]) -> Scored:
        return Scored([version] * len(columns["x"]))

    return ServedModel("m", version, schema, predict or constant, None, example)


def test_ready_means_the_model_scored_its_logged_example() -> None:
    def broken(columns: dict[str, list[Any]]) -> Scored:
        raise RuntimeError("secret path /home/x and a traceback")

    assert example_problem(_served("1")) is None
    assert example_problem(_served("1", example=None)) == (
        "the model version has no logged input example to check it on"
    )
    missing = {"dataframe_split": {"columns": ["y"], "data": [[1.0]]}}
    assert example_problem(_served("1", example=missing)) == (
        "its logged input example does not fit its input columns: missing column(s): x"
    )
    assert example_problem(_served("1", predict=broken)) == (
        "it could not score its logged input example (RuntimeError)"
    )
    assert example_problem(_served("1", predict=lambda columns: Scored([]))) == (
        "it gave 0 answers for the 2 rows of its logged input example"
    )


@dataclass
class _Registry:
    """What the follower reads: the champion's version, and a loader that counts its calls."""

    champion: str | None = "1"
    broken: tuple[str, ...] = ()
    loads: int = 0

    def load(self) -> ServedModel:
        self.loads += 1
        if self.champion in self.broken:
            raise SlipwayError(f"version {self.champion} is not in the safe format\nsecond line")
        assert self.champion is not None
        return _served(self.champion, example=None if self.champion == "9" else "good")


def test_the_follower_hands_over_a_new_champion_only_once_it_is_loaded_and_checked(
    caplog: pytest.LogCaptureFixture,
) -> None:
    registry = _Registry(broken=("3",))
    follower = Follower(lambda: registry.champion, registry.load, interval=1)
    assert follower.poll("1") is None
    assert registry.loads == 0  # the alias did not move: nothing is loaded
    registry.champion = "2"
    new = follower.poll("1")
    assert new is not None
    assert new.version == "2"
    registry.champion = "3"
    with caplog.at_level(logging.WARNING, "slipway.serve"):
        assert follower.poll("2") is None
        assert follower.poll("2") is None
    assert registry.loads == 2  # the broken version is tried once, until the alias moves again
    assert caplog.messages == [
        "serve: champion version 3 not loaded, still serving 2: version 3 is not in the safe format"
    ]
    registry.champion = "9"  # loads, but has no example to be checked on
    assert follower.poll("2") is None
    assert follower.skipped == "9"
    registry.champion = None  # no champion any more: keep serving
    assert follower.poll("2") is None


def test_the_follower_thread_polls_until_stopped_and_survives_registry_errors() -> None:
    registry = _Registry(champion="2")
    calls = {"n": 0}

    def version() -> str | None:
        calls["n"] += 1
        if calls["n"] == 1:
            raise SlipwayError("reading the registry failed at tracking store x: unreachable")
        return registry.champion

    handed: list[str] = []
    stop = threading.Event()
    follower = Follower(version, registry.load, interval=0.01)
    thread = threading.Thread(
        target=follower.run, args=(lambda: "1", lambda m: handed.append(m.version), stop)
    )
    thread.start()
    deadline = time.monotonic() + 10
    while not handed and time.monotonic() < deadline:
        time.sleep(0.01)
    stop.set()
    thread.join(10)
    assert not thread.is_alive()
    assert handed[:1] == ["2"]


# ---- a real server ----------------------------------------------------------------------------


@dataclass
class Subject:
    """A project dir with three registered versions (3 cannot be ready); `move` sets the champion."""

    root: Path
    process: subprocess.Popen[str]

    def move(self, version: str) -> None:
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        self.process.stdin.write(f"champion {version}\n")
        self.process.stdin.flush()
        assert self.process.stdout.readline().strip() == f"moved {version}"


@pytest.fixture(scope="module")
def subject(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Subject]:
    root = tmp_path_factory.mktemp("served") / "subject"
    root.mkdir()
    process = subprocess.Popen(
        [*SERVE_ENV, "python", str(ROOT / "tests" / "serve_subject.py"), str(root)],
        cwd=root,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()  # blocks until logged; the process ends if it fails
    assert line.strip() == "ready", "tests/serve_subject.py failed: run it by hand to see why"
    try:
        yield Subject(root, process)
    finally:
        assert process.stdin is not None
        process.stdin.close()
        process.wait(60)


def _serve(subject: Subject, port: int, *args: str) -> list[str]:
    return [*SERVE_ENV, "python", "-m", "slipway.cli", "serve", "--port", str(port), *args]


@dataclass
class Server:
    base: str
    port: int
    pid: int  # the server's own process (under `uv run`)
    started_mb: float


@pytest.fixture(scope="module")
def server(subject: Subject) -> Iterator[Server]:
    """`slipway serve` for champion 1 under the subject's [tool.slipway.serve] (2 s deadlines)."""
    port = free_port()
    env = {"PYTHONPATH": str(subject.root / "src")}
    with started(_serve(subject, port, "--follow-champion", "0"), subject.root, port, env=env) as (
        base,
        process,
    ):
        pid = descendant(process.pid, "slipway.cli")
        yield Server(base, port, pid, memory_mb(pid)["VmRSS"])


def _post(server: Server, body: bytes, timeout: float = 30) -> tuple[int, dict[str, Any], dict[str, str]]:
    """A keep-alive POST /predict (as most clients send it): status, JSON answer, headers."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=timeout)
    try:
        connection.request("POST", "/predict", body, {"Content-Type": "application/json"})
        response = connection.getresponse()
        return response.status, json.loads(response.read()), dict(response.getheaders())
    finally:
        connection.close()


class HealthWatch:
    """Asks /health every 0.2 s in a thread; `worst` is the longest answer time, failures count as 10 s."""

    def __init__(self, server: Server) -> None:
        self.server, self.worst, self.answers = server, 0.0, 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run)

    def _run(self) -> None:
        while True:
            start = time.perf_counter()
            try:
                ok = call(f"{self.server.base}/health") == (200, {"status": "ok"})
            except OSError:
                ok = False
            self.worst = max(self.worst, time.perf_counter() - start if ok else 10.0)
            self.answers += ok
            if self.stop.wait(0.2):
                return

    def __enter__(self) -> HealthWatch:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(30)


def _names() -> list[str]:
    from sklearn.datasets import load_breast_cancer

    return [name.replace(" ", "_") for name in load_breast_cancer().feature_names]


def test_real_server_answers_each_hostile_payload_4xx_quickly_while_health_answers(server: Server) -> None:
    names = _names()
    payloads = {name: (make(names), status, message) for name, (make, status, message) in HOSTILE.items()}
    over = ServeConfig.max_body_bytes + 1
    payloads["over-size body"] = (b" " * over, 413, f"request body of {over} bytes is over the limit")
    with HealthWatch(server) as health:
        for name, (body, status, message) in payloads.items():
            start = time.perf_counter()
            got, answer, headers = _post(server, body)
            took = time.perf_counter() - start
            print(f"{name} ({len(body):,} bytes): {got} in {took * 1000:.0f} ms: {answer['error']}")
            assert (got, message in answer["error"]) == (status, True), answer
            assert not any(leak in answer["error"] for leak in LEAKS)
            assert headers["x-model-version"] == "1"
            assert took < 10
    print(f"/health during the payloads: {health.answers} answers, slowest {health.worst * 1000:.0f} ms")
    assert health.answers > 0
    assert health.worst < 5


def _head(server: Server, length: int) -> bytes:
    return (
        f"POST /predict HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {length}\r\n\r\n"
    ).encode()


def test_a_body_sent_too_slowly_is_cut_off_with_408(server: Server) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=15) as sock:
        start = time.perf_counter()
        sock.sendall(_head(server, 1000) + b'{"dataframe_split": ')  # and then nothing
        answer = sock.recv(65536)
        took = time.perf_counter() - start
        while b"}" not in answer.partition(b"\r\n\r\n")[2]:  # the JSON body may come in a second segment
            more = sock.recv(65536)
            if not more:
                break
            answer += more
    print(f"slow body: {answer.splitlines()[0].decode()} after {took:.1f} s")
    assert answer.startswith(b"HTTP/1.1 408 ")
    assert b"request body not received in full within 2 s" in answer
    assert took < 10


def _closed(sock: socket.socket) -> bool:
    try:
        return sock.recv(1024) == b""
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


def test_half_sent_request_heads_are_closed_and_do_not_block_others(server: Server) -> None:
    socks = [socket.create_connection(("127.0.0.1", server.port), timeout=15) for _ in range(200)]
    try:
        start = time.perf_counter()
        for sock in socks:
            sock.sendall(b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Ty")  # never finished
        assert call(f"{server.base}/health") == (200, {"status": "ok"})
        closed = [_closed(sock) for sock in socks]  # each waits at most its 15 s timeout
        took = time.perf_counter() - start
    finally:
        for sock in socks:
            sock.close()
    print(f"200 half-sent heads: {sum(closed)} closed by the server within {took:.1f} s")
    assert all(closed)


def _unfinished(server: Server, length: int, sent: int, held: float) -> bytes:
    """Send a head for `length` bytes and `sent` of them, keep the connection `held` s; the answer, if any."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=held) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 * 1024 * 1024)
        try:
            sock.sendall(_head(server, length) + b'{"dataframe_split": {"columns": [' + b" " * sent)
            return sock.recv(65536)
        except OSError:  # the server stopped reading and closed: fine, it owes this client nothing
            return b""


def _valid_batch(rows: int) -> bytes:
    names = _names()
    data = [[round(12.3456 + (i % 97) / 7, 3)] * len(names) for i in range(rows)]
    return _split(names, data)


def test_bounded_load_keeps_memory_and_health_in_check(server: Server) -> None:
    """60 unfinished near-limit bodies, a flood past the in-flight limit, then 16 large valid batches."""
    limit = ServeConfig.max_body_bytes
    small = _valid_batch(1)
    large = _valid_batch(9_000)
    assert len(large) < limit
    with HealthWatch(server) as health, ThreadPoolExecutor(100) as pool:
        held = [pool.submit(_unfinished, server, limit - 10, limit - 100_000, 8) for _ in range(60)]
        time.sleep(0.5)
        flood = [pool.submit(_post, server, small) for _ in range(200)]
        unfinished = [future.result() for future in held]
        answers = [future.result() for future in flood]
        batches = [future.result() for future in [pool.submit(_post, server, large, 60) for _ in range(16)]]
    peak = memory_mb(server.pid)
    statuses = sorted({answer.split(b" ", 2)[1].decode() for answer in unfinished if answer})
    busy = [headers for status, _, headers in answers + batches if status == 503]
    print(
        f"load: unfinished bodies answered {statuses}; flood {sorted({a[0] for a in answers})}, "
        f"{len(busy)} busy; 16 batches of 9,000 rows {sorted({b[0] for b in batches})}; "
        f"/health {health.answers} answers, slowest {health.worst * 1000:.0f} ms; "
        f"server RSS {server.started_mb:.0f} MB at start, {peak['VmRSS']:.0f} MB after, "
        f"peak {peak['VmHWM']:.0f} MB"
    )
    assert set(statuses) <= {"408", "503"}
    assert busy, "nothing was refused past the in-flight limit"
    assert all(headers.get("retry-after") == "1" for headers in busy)
    assert {status for status, _, _ in answers + batches} <= {200, 503}
    assert any(status == 200 for status, _, _ in batches)
    assert health.worst < 5
    assert peak["VmHWM"] < 600


def _ready(base: str) -> tuple[int, dict[str, Any]]:
    try:
        return call(f"{base}/ready")
    except OSError:
        return 0, {}


def _wait(condition: Callable[[], bool], timeout: float = 60) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.25)
    return False


def test_a_following_server_is_ready_only_on_a_checked_model_and_swaps_to_each_new_champion(
    subject: Subject, tmp_path: Path
) -> None:
    log = tmp_path / "serve.log"
    port = free_port()
    env = {"PYTHONPATH": str(subject.root / "src")}
    subject.move("3")  # its logged example lacks a feature: never ready
    try:
        with started(_serve(subject, port), subject.root, port, env=env, log=log, ready=503) as (base, _):
            assert _wait(lambda: not _ready(base)[1]["reason"].startswith("checking"))
            status, answer = _ready(base)
            assert status == 503
            assert answer["reason"] == (
                "its logged input example does not fit its input columns: missing column(s): mean_radius"
            )
            assert answer["model"]["version"] == "3"
            subject.move("1")
            assert _wait(
                lambda: (
                    _ready(base) == (200, {"status": "ready", "model": {"name": "subject", "version": "1"}})
                )
            )
            subject.move("2")
            assert _wait(lambda: _ready(base)[1].get("model", {}).get("version") == "2")
            columns = _names()
            body = _split(columns, [[14.0] * len(columns)])
            status, scored, headers = _post(Server(base, port, 0, 0), body)
            assert (status, scored["model"]["version"], headers["x-model-version"]) == (200, "2", "2")
            with urllib_open(f"{base}/metrics") as metrics:
                text = metrics.read().decode()
            assert 'slipway_model_info{name="subject",version="2"} 1.0' in text
            assert 'version="1"' not in text
            subject.move("3")
            assert _wait(lambda: "champion version 3 not served, still serving 2" in log.read_text())
            assert _ready(base)[1]["model"]["version"] == "2"
    finally:
        subject.move("1")
    print(log.read_text())


def urllib_open(url: str) -> Any:
    import urllib.request

    return urllib.request.urlopen(url, timeout=30)
