"""uvicorn, configured once from `[tool.slipway.serve]`: what `slipway serve` and its tests both run.

uvicorn bounds the request head's size (h11) and idle keep-alive connections, but has no deadline
for a head that never completes: a client can hold a connection open by sending half a header.
The protocol below closes such a connection after `header_timeout_seconds`; the app bounds the body.
"""

from __future__ import annotations

from typing import Any

from slipway.config import ServeConfig


def head_deadline_protocol(seconds: float) -> type[Any]:
    """uvicorn's h11 protocol, closing a connection that has not sent a whole request head in time.

    The clock starts when the connection opens, or when the first byte of the next head arrives on a
    kept-alive one; it stops once the head is complete (the app then bounds the body).
    """
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class HeadDeadline(H11Protocol):  # type: ignore[misc]
        head_timer: Any = None

        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            self._arm()

        def data_received(self, data: bytes) -> None:
            super().data_received(data)
            if self._awaiting_head():
                self._arm()
            else:
                self._disarm()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def _awaiting_head(self) -> bool:
            return self.cycle is None or bool(self.cycle.response_complete)

        def _arm(self) -> None:
            if self.head_timer is None:  # a trickle of bytes does not push the deadline back
                self.head_timer = self.loop.call_later(seconds, self._late)

        def _disarm(self) -> None:
            if self.head_timer is not None:
                self.head_timer.cancel()
                self.head_timer = None

        def _late(self) -> None:
            self.head_timer = None
            if self._awaiting_head() and not self.transport.is_closing():
                self.transport.close()

    return HeadDeadline


def uvicorn_config(app: Any, host: str, port: int, limits: ServeConfig) -> Any:
    """One worker (the model is loaded once; more workers slow every request), with the limits."""
    import uvicorn

    return uvicorn.Config(
        app,
        host=host,
        port=port,
        workers=1,
        http=head_deadline_protocol(limits.header_timeout_seconds),
        h11_max_incomplete_event_size=limits.max_header_bytes,
        timeout_keep_alive=limits.keep_alive_seconds,
        limit_concurrency=limits.max_connections,
        log_level="warning",
        access_log=False,
    )


def run(app: Any, host: str, port: int, limits: ServeConfig) -> None:
    """Serve `app` until interrupted."""
    import uvicorn

    uvicorn.Server(uvicorn_config(app, host, port, limits)).run()
