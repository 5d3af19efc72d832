"""The serving app: `/health`, `/ready`, `/predict` (also `/invocations`), `/metrics`.

One uvicorn worker, one model. Requests that arrive while the model is busy wait in a queue and
are scored together in the next call (no added delay when idle): a forest's per-call overhead
dwarfs its per-row cost, so this is where the throughput comes from. Bad input is a 4xx naming
the problem (`schema.InputError`); nothing a client sends can produce a 500. Answers carry the
labels as they are in the data and, for classification, the classes and each row's probabilities.
"""

# No `from __future__ import annotations`: FastAPI reads the handlers' annotations at runtime,
# and `Request` is imported inside create_app.
import asyncio
import json
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from slipway.serve.model import Scored, ServedModel
from slipway.serve.schema import Batch, InputError

MAX_BODY_BYTES = 8 * 1024 * 1024


@dataclass
class _Job:
    batch: Batch
    future: asyncio.Future[Scored]


@dataclass
class Batcher:
    """Scores queued requests in one model call on one thread, splitting the results back."""

    served: ServedModel
    max_rows: int
    queue: asyncio.Queue[_Job] = field(default_factory=asyncio.Queue)
    executor: ThreadPoolExecutor = field(default_factory=lambda: ThreadPoolExecutor(1, "slipway-model"))
    observe_batch: Any = None  # callable(rows) for the metrics

    async def submit(self, batch: Batch) -> Scored:
        job = _Job(batch, asyncio.get_running_loop().create_future())
        await self.queue.put(job)
        return await job.future

    def _merge(self, jobs: list[_Job]) -> dict[str, list[Any]]:
        if len(jobs) == 1:
            return jobs[0].batch.columns
        return {
            name: [v for job in jobs for v in job.batch.columns[name]] for name in self.served.schema.names
        }

    async def _score(self, jobs: list[_Job]) -> None:
        loop = asyncio.get_running_loop()
        try:
            results = await loop.run_in_executor(self.executor, self.served.predict, self._merge(jobs))
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
            await self._score(jobs)


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


def create_app(served: ServedModel, *, max_body: int = MAX_BODY_BYTES) -> Any:
    """The FastAPI app for one loaded model."""
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
    info.labels(served.name, served.version).set(1)
    batcher = Batcher(served, served.schema.max_rows, observe_batch=batch_rows.observe)
    model_header = {"X-Model-Name": served.name, "X-Model-Version": served.version}
    model_field = {"name": served.name, "version": served.version}
    state: dict[str, Any] = {}

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> Any:
        state["task"] = asyncio.create_task(batcher.run())
        yield
        state["task"].cancel()
        batcher.executor.shutdown(wait=False, cancel_futures=True)

    app = FastAPI(title=f"{served.name} v{served.version}", lifespan=lifespan, docs_url=None, redoc_url=None)

    async def invalid(request: Request, exc: RequestValidationError) -> Any:
        return _json({"error": str(exc)}, 422)

    async def http_error(request: Request, exc: HTTPException) -> Any:
        return _json({"error": exc.detail}, exc.status_code)

    async def health() -> Any:
        return _json({"status": "ok"})

    async def ready() -> Any:
        task = state.get("task")
        if task is None or task.done():
            return _json({"status": "not ready", "model": model_field}, 503)
        return _json({"status": "ready", "model": model_field}, headers=model_header)

    async def predict(request: Request) -> Any:
        start = time.perf_counter()
        endpoint = request.url.path
        try:
            body = await _read_body(request, max_body)
            batch = served.schema.parse(body)
            scored = await batcher.submit(batch)
        except InputError as exc:
            requests.labels(endpoint, str(exc.status)).inc()
            return _json({"error": str(exc), "model": model_field}, exc.status, model_header)
        except (ValueError, TypeError) as exc:  # the model refused validated input
            requests.labels(endpoint, "422").inc()
            message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            return _json({"error": f"the model could not score this input: {message}"}, 422, model_header)
        except Exception as exc:  # pragma: no cover - a bug or a broken model, not the client's input
            requests.labels(endpoint, "500").inc()
            return _json({"error": f"internal error: {type(exc).__name__}: {exc}"}, 500, model_header)
        requests.labels(endpoint, "200").inc()
        rows.inc(batch.rows)
        for column, count in batch.unseen.items():
            unseen.labels(column).inc(count)
        latency.observe(time.perf_counter() - start)
        return _json(answer(served, scored, batch.warnings), headers=model_header)

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
