"""The serving app: `/health`, `/ready`, `/predict` (also `/invocations`), `/metrics`.

One uvicorn worker, one model at a time. Requests that arrive while the model is busy wait in a
queue and are scored together in the next call (no added delay when idle): a forest's per-call
overhead dwarfs its per-row cost, so this is where the throughput comes from. Bad input is a 4xx
naming the problem (`schema.InputError`) in bounded time: the body's size, arrival time and the
requests in flight are capped before it is read, and it is parsed off the event loop, so `/health`
keeps answering. No answer carries an exception's text; the server log does. `/ready` says ready
once the model has scored its logged input example. Answers carry the labels as they are in the
data and, for classification, the classes and each row's probabilities, and the version that
scored them: a server following the champion swaps models between requests.
"""

# No `from __future__ import annotations`: FastAPI reads the handlers' annotations at runtime,
# and `Request` is imported inside create_app.
import asyncio
import json
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from typing import Any

from slipway.config import ServeConfig
from slipway.serve.follow import Follower, example_problem
from slipway.serve.model import Scored, ServedModel
from slipway.serve.schema import Batch, InputError

log = logging.getLogger("slipway.serve")


@dataclass
class _Job:
    batch: Batch
    future: asyncio.Future[Scored]
    served: ServedModel  # the model whose schema checked the batch, and which scores it


@dataclass
class Batcher:
    """Scores queued requests in one model call on one thread, splitting the results back."""

    served: ServedModel  # the model jobs submitted without one are scored by
    max_rows: int
    queue: asyncio.Queue[_Job] = field(default_factory=asyncio.Queue)
    executor: ThreadPoolExecutor = field(default_factory=lambda: ThreadPoolExecutor(1, "slipway-model"))
    observe_batch: Any = None  # callable(rows) for the metrics

    async def submit(self, batch: Batch, served: ServedModel | None = None) -> Scored:
        job = _Job(batch, asyncio.get_running_loop().create_future(), served or self.served)
        await self.queue.put(job)
        return await job.future

    def _merge(self, jobs: list[_Job]) -> dict[str, list[Any]]:
        if len(jobs) == 1:
            return jobs[0].batch.columns
        return {
            name: [v for job in jobs for v in job.batch.columns[name]] for name in jobs[0].served.schema.names
        }

    async def _score(self, jobs: list[_Job]) -> None:
        loop = asyncio.get_running_loop()
        try:
            results = await loop.run_in_executor(self.executor, jobs[0].served.predict, self._merge(jobs))
        except Exception as exc:
            if len(jobs) > 1:  # one request's rows broke the model: score each alone, fail only that one
                for job in jobs:
                    await self._score([job])
                return
            if not jobs[0].future.done():
                jobs[0].future.set_exception(exc)
            return
        if self.observe_batch is not None:
            self.observe_batch(len(results))
        start = 0
        for job in jobs:
            if not job.future.done():
                job.future.set_result(results.rows(start, start + job.batch.rows))
            start += job.batch.rows

    async def run(self) -> None:
        while True:
            jobs = [await self.queue.get()]
            rows = jobs[0].batch.rows
            while not self.queue.empty() and rows < self.max_rows:
                job = self.queue.get_nowait()
                jobs.append(job)
                rows += job.batch.rows
            # Jobs checked by different models (a swap happened meanwhile) are scored by their own.
            while jobs:
                same = [job for job in jobs if job.served is jobs[0].served]
                jobs = [job for job in jobs if job.served is not jobs[0].served]
                await self._score(same)


def answer(served: ServedModel, scored: Scored, warnings: tuple[str, ...] = ()) -> dict[str, Any]:
    """A /predict answer: predictions, then the classes and probabilities, warnings if any, the model."""
    content: dict[str, Any] = {"predictions": scored.predictions}
    if served.classes is not None and scored.probabilities is not None:
        content["classes"] = served.classes
        content["probabilities"] = scored.probabilities
    if warnings:
        content["warnings"] = list(warnings)
    content["model"] = {"name": served.name, "version": served.version}
    return content


def _json(content: Any, status: int = 200, headers: dict[str, str] | None = None) -> Any:
    from starlette.responses import Response

    body = json.dumps(content, separators=(",", ":")).encode()
    return Response(body, status_code=status, media_type="application/json", headers=headers)


async def _read_body(request: Any, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise InputError(f"request body of {int(declared)} bytes is over the limit of {limit} bytes", 413)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise InputError(f"request body is over the limit of {limit} bytes", 413)
        chunks.append(chunk)
    return b"".join(chunks)


def limited(served: ServedModel, limits: ServeConfig) -> ServedModel:
    """`served` with the request limits of `[tool.slipway.serve]` on its schema."""
    schema = replace(served.schema, max_rows=limits.max_rows, max_columns=limits.max_columns)
    return replace(served, schema=schema)


@dataclass
class Serving:
    """The model answering now, and why it is not ready (None: it scored its logged input example)."""

    served: ServedModel
    problem: str | None = "checking the model on its logged input example"

    @property
    def header(self) -> dict[str, str]:
        return {"X-Model-Name": self.served.name, "X-Model-Version": self.served.version}

    @property
    def model(self) -> dict[str, str]:
        return {"name": self.served.name, "version": self.served.version}


DEFAULT_LIMITS = ServeConfig()


def create_app(
    served: ServedModel, limits: ServeConfig = DEFAULT_LIMITS, follower: Follower | None = None
) -> Any:
    """The FastAPI app for one loaded model, which `follower` (if given) replaces when the champion moves."""
    from fastapi import FastAPI, Request
    from fastapi.exceptions import RequestValidationError
    from prometheus_client import (
        CollectorRegistry,
        Counter,
        Gauge,
        Histogram,
        disable_created_metrics,
        generate_latest,
    )
    from prometheus_client.exposition import CONTENT_TYPE_LATEST
    from starlette.exceptions import HTTPException
    from starlette.responses import Response

    disable_created_metrics()  # plain counters, as Prometheus scrapes them
    metrics = CollectorRegistry()
    requests = Counter(
        "slipway_requests",
        "Prediction requests by outcome",
        ["endpoint", "status"],
        registry=metrics,
    )
    latency = Histogram(
        "slipway_request_seconds",
        "Time from request to answer for /predict",
        buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
        registry=metrics,
    )
    rows = Counter("slipway_predicted_rows", "Rows scored", registry=metrics)
    batch_rows = Histogram(
        "slipway_batch_rows",
        "Rows per model call",
        buckets=(1, 2, 4, 8, 16, 64, 256, 1024, 10_000),
        registry=metrics,
    )
    unseen = Counter(
        "slipway_unseen_categories",
        "Values of a string column outside its contract's categories (scored, with a warning)",
        ["column"],
        registry=metrics,
    )
    info = Gauge("slipway_model_info", "The served model version", ["name", "version"], registry=metrics)
    serving = Serving(limited(served, limits))
    info.labels(served.name, served.version).set(1)
    batcher = Batcher(serving.served, limits.max_rows, observe_batch=batch_rows.observe)
    parser = ThreadPoolExecutor(1, "slipway-parse")  # off the event loop; one at a time bounds its memory
    in_flight = 0
    state: dict[str, Any] = {}

    def hand_over(new: ServedModel) -> None:
        """Serve `new` (checked already) from the next request on; requests under way finish on the old."""
        old = serving.served.version
        serving.served, serving.problem = limited(new, limits), None
        batcher.served = serving.served  # the old model lives on only while its requests do
        info.clear()
        info.labels(new.name, new.version).set(1)
        log.warning("serve: now serving %s version %s (was version %s)", new.name, new.version, old)

    async def check() -> None:
        checked = serving.served
        problem = await asyncio.get_running_loop().run_in_executor(batcher.executor, example_problem, checked)
        if problem is not None:
            log.warning("serve: version %s is not ready: %s", checked.version, problem)
        if serving.served is checked:  # not swapped for a newer champion meanwhile
            serving.problem = problem

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> Any:
        loop = asyncio.get_running_loop()
        state["task"] = asyncio.create_task(batcher.run())
        state["check"] = asyncio.create_task(check())
        stop = threading.Event()

        def from_thread(new: ServedModel) -> None:
            loop.call_soon_threadsafe(hand_over, new)

        if follower is not None:
            threading.Thread(
                target=follower.run,
                args=(lambda: serving.served.version, from_thread, stop),
                name="slipway-follow",
                daemon=True,
            ).start()
        yield
        stop.set()
        state["task"].cancel()
        batcher.executor.shutdown(wait=False, cancel_futures=True)
        parser.shutdown(wait=False, cancel_futures=True)

    app = FastAPI(title=f"{served.name} v{served.version}", lifespan=lifespan, docs_url=None, redoc_url=None)

    async def invalid(request: Request, exc: RequestValidationError) -> Any:
        return _json({"error": "invalid request"}, 422)

    async def http_error(request: Request, exc: HTTPException) -> Any:
        return _json({"error": str(exc.detail)}, exc.status_code)

    async def health() -> Any:
        return _json({"status": "ok"})

    async def ready() -> Any:
        task = state.get("task")
        problem = "the scoring loop is not running" if task is None or task.done() else serving.problem
        if problem is not None:
            return _json({"status": "not ready", "reason": problem, "model": serving.model}, 503)
        return _json({"status": "ready", "model": serving.model}, headers=serving.header)

    async def predict(request: Request) -> Any:
        nonlocal in_flight
        endpoint = request.url.path
        # Refused before reading the body: uvicorn drops what still arrives, and the server's head
        # deadline closes a connection that keeps sending it.
        if in_flight >= limits.max_in_flight:
            requests.labels(endpoint, "503").inc()
            busy = f"busy: {limits.max_in_flight} requests in flight, retry shortly"
            return _json({"error": busy}, 503, {"Retry-After": "1"})
        in_flight += 1
        try:
            return await _predict(request, endpoint)
        finally:
            in_flight -= 1

    async def _predict(request: Request, endpoint: str) -> Any:
        start = time.perf_counter()
        current = serving.served  # this request is checked and scored by the model serving now
        header = {"X-Model-Name": current.name, "X-Model-Version": current.version}
        model = {"name": current.name, "version": current.version}
        try:
            try:
                async with asyncio.timeout(limits.body_timeout_seconds):
                    body = await _read_body(request, limits.max_body_bytes)
            except TimeoutError:
                seconds = f"{limits.body_timeout_seconds:g}"
                raise InputError(f"request body not received in full within {seconds} s", 408) from None
            loop = asyncio.get_running_loop()
            batch = await loop.run_in_executor(parser, current.schema.parse, body)
            del body  # not held while the request waits for the model
            scored = await batcher.submit(batch, current)
        except InputError as exc:
            requests.labels(endpoint, str(exc.status)).inc()
            return _json({"error": str(exc), "model": model}, exc.status, header)
        except (ValueError, TypeError, ArithmeticError) as exc:  # the model refused validated input
            requests.labels(endpoint, "422").inc()
            log.warning("serve: version %s could not score a request: %r", current.version, exc)
            message = f"the model could not score this input ({type(exc).__name__})"
            return _json({"error": message, "model": model}, 422, header)
        except Exception:  # a bug or a broken model, not the client's input: the log has the details
            requests.labels(endpoint, "500").inc()
            log.exception("serve: internal error while answering %s", endpoint)
            return _json({"error": "internal error: see the server log", "model": model}, 500, header)
        requests.labels(endpoint, "200").inc()
        rows.inc(batch.rows)
        for column, count in batch.unseen.items():
            unseen.labels(column).inc(count)
        latency.observe(time.perf_counter() - start)
        return _json(answer(current, scored, batch.warnings), headers=header)

    async def prometheus() -> Any:
        return Response(generate_latest(metrics), media_type=CONTENT_TYPE_LATEST)

    # Registered by calls, not decorators (FastAPI's decorators are untyped for mypy).
    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(HTTPException, http_error)
    app.add_api_route("/health", health, methods=["GET"])
    app.add_api_route("/ready", ready, methods=["GET"])
    app.add_api_route("/predict", predict, methods=["POST"])
    # /invocations: MLflow's name for the same endpoint, so MLflow clients work unchanged.
    app.add_api_route("/invocations", predict, methods=["POST"])
    app.add_api_route("/metrics", prometheus, methods=["GET"])
    return app
