"""A registry-wide lock for alias moves: MLflow aliases have no compare-and-set, so moves take turns.

The lock is a registered model named `<model>.slipway-lock`: creating it is atomic in every store
(the name is unique in SQLite, PostgreSQL and behind a tracking server), so whoever creates it holds
it. Others poll until a bounded timeout, then fail in one line naming the holder. A lock older than
`STALE_AFTER` (its holder died) is taken over by renaming it to a name derived from its own token,
which only one waiter can do.
"""

from __future__ import annotations

import os
import random
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, TypeVar

from slipway.errors import SlipwayError
from slipway.registry import Registry, reaching

T = TypeVar("T")
SUFFIX = ".slipway-lock"
HOLDER_TAG = "slipway.lock.holder"
TOKEN_TAG = "slipway.lock.token"
WAIT = 60.0  # seconds a move waits for another to finish (SLIPWAY_LOCK_WAIT)
STALE_AFTER = (
    600.0  # seconds after which a lock is presumed abandoned; a move takes seconds (SLIPWAY_LOCK_STALE)
)


def _seconds(variable: str, default: float) -> float:
    try:
        return float(os.environ.get(variable, default))
    except ValueError:
        raise SlipwayError(f"{variable} must be a number of seconds, got {os.environ[variable]!r}") from None


def lock_name(registry: Registry) -> str:
    return registry.name + SUFFIX


def _error_code(exc: Exception) -> str:
    return str(getattr(exc, "error_code", "")) + " " + str(exc)


def _missing(exc: Exception) -> bool:
    """The store says the lock does not exist (any more)."""
    return "RESOURCE_DOES_NOT_EXIST" in _error_code(exc) or "not found" in str(exc).lower()


def _patiently(func: Callable[[], T], deadline: float) -> T:
    """`func()`, again while SQLite says "database is locked" (another writer's moment), until `deadline`."""
    from mlflow.exceptions import MlflowException

    while True:
        try:
            return func()
        except MlflowException as exc:
            if "database is locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.05 + random.random() * 0.1)


def _try_create(registry: Registry, name: str, tags: dict[str, str]) -> bool:
    """True when this call created the lock; False when it exists."""
    from mlflow.exceptions import MlflowException

    try:
        registry.client.create_registered_model(name, tags=tags)
        return True
    except MlflowException as exc:
        if "RESOURCE_ALREADY_EXISTS" in _error_code(exc) or "already exists" in str(exc):
            return False
        if _missing(exc):  # MLflow re-reads a name that already exists; its holder let go meanwhile
            return False
        raise


def _current(registry: Registry, name: str) -> Any | None:
    """The lock as the store has it; None when nobody holds it."""
    from mlflow.exceptions import MlflowException

    try:
        return registry.client.get_registered_model(name)
    except MlflowException as exc:
        if _missing(exc):
            return None
        raise


def _take_over(registry: Registry, name: str, lock: Any) -> None:
    """Move a stale lock aside to a name only it maps to: of several waiters, one rename succeeds."""
    token = dict(lock.tags).get(TOKEN_TAG) or str(lock.creation_timestamp)
    try:
        registry.client.rename_registered_model(name, f"{name}.stale-{token}")
    except Exception:
        return


def _held_line(name: str, lock: Any, age: float, stale: float) -> str:
    holder = dict(lock.tags).get(HOLDER_TAG, "an unknown process")
    since = datetime.fromtimestamp(lock.creation_timestamp / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S")
    return (
        f"the registry is locked by {holder} since {since} UTC ({age:.0f} s ago): retry when it is done;"
        f" if that process died, delete registered model {name!r} (taken over anyway after {stale:g} s)"
    )


@contextmanager
def registry_lock(registry: Registry, action: str) -> Iterator[None]:
    """Hold the model's registry lock for the duration of a read-check-move sequence."""
    from slipway.gates.record import actor

    wait, stale = _seconds("SLIPWAY_LOCK_WAIT", WAIT), _seconds("SLIPWAY_LOCK_STALE", STALE_AFTER)
    name = lock_name(registry)
    token = uuid.uuid4().hex
    holder = f"`slipway {action}` by {actor()} on {socket.gethostname()} (pid {os.getpid()})"
    deadline = time.monotonic() + wait
    with reaching(registry.uri, "taking the registry lock"):
        tags = {HOLDER_TAG: holder, TOKEN_TAG: token}
        while True:
            # reads first: SQLite serializes every write, and a failed create is one
            lock = _patiently(lambda: _current(registry, name), deadline)
            if lock is None:
                if _patiently(lambda: _try_create(registry, name, tags), deadline):
                    break
                continue  # someone else created it first: read who
            age = time.time() - lock.creation_timestamp / 1000
            if age > stale:
                _take_over(registry, name, lock)
                continue
            if time.monotonic() > deadline:
                raise SlipwayError(_held_line(name, lock, age, stale))
            time.sleep(0.1 + random.random() * 0.3)
    try:
        yield
    finally:

        def release() -> None:
            lock = _current(registry, name)
            if lock is not None and dict(lock.tags).get(TOKEN_TAG) == token:
                registry.client.delete_registered_model(name)

        with reaching(registry.uri, "releasing the registry lock"):
            _patiently(release, time.monotonic() + wait)
