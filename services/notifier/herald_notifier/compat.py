"""uvicorn as the notifier runs it: the one module that leans on uvicorn's internals.

- `LeanHttpToolsProtocol`: uvicorn's httptools protocol with smaller per-connection
  containers. An idle SSE stream keeps its connection's protocol objects for hours, so
  their size is most of what an idle stream costs. uvicorn gives every connection a deque
  for pipelined requests and two asyncio.Events (flow control, request messages), each
  waiting with a deque; a deque allocates a 64-slot block up front, about 750 bytes with
  its object. Lists do the same jobs here at a tenth of that: the pipeline holds a request
  or two at most and an event one waiter. Together that is about 1.9 KB less per
  connection (docs/decisions/0032). Behaviour is uvicorn's own but for one thing: the end
  of a response is written even while the client is not reading (`_EndingCycle`), so a
  stream cut off for a slow reader ends complete.
- `DrainingServer`: uvicorn's server, draining the streams as the shutdown signal arrives
  (docs/decisions/0018).
- `lean_server`: both, with the stream fast path in front of uvicorn's proxy-headers
  middleware; what `herald_web.serve` runs for the notifier.

uvicorn is pinned in uv.lock; tests/unit/test_lean_protocol.py and
tests/deploy/test_notifier_drain.py fail first when an upgrade moves what this relies on.
"""

from __future__ import annotations

import asyncio
from types import FrameType
from typing import Any, cast

import uvicorn
from fastapi import FastAPI
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle

from herald_notifier.api.fast_path import StreamFastPath
from herald_notifier.drain import Drain
from herald_web.serve import ServerOptions


class _Pipeline(list[Any]):
    """The deque operations uvicorn uses on its pipeline: appendleft, pop, truth."""

    def appendleft(self, item: Any) -> None:
        self.insert(0, item)


class LeanEvent(asyncio.Event):
    """asyncio.Event waiting with a list: it only appends, removes and iterates."""

    def __init__(self) -> None:
        super().__init__()
        self._waiters: Any = []


class _Writable:
    """A connection's flow control as uvicorn reads it before a write: not paused."""

    write_paused = False


_WRITABLE: Any = _Writable()


class _EndingCycle(RequestResponseCycle):
    """uvicorn's request cycle, except that a response's end never waits for the reader.

    uvicorn waits before every write while the client is not reading, the last one too.
    A stream cut off because its client stopped reading would then never end: it ends
    abandoned instead, which uvicorn logs as an error ("ASGI callable returned without
    completing response") and the client sees as a body without its terminating chunk.
    The end is a few bytes; it goes into the transport's buffer at once, behind what the
    client has not read yet.
    """

    def send(self, message: Any) -> Any:
        # Not `async`: the stream's writes go straight to uvicorn's coroutine, with no
        # coroutine of ours around each (this is every write of every stream).
        if (
            message.get("more_body", False)
            or not self.flow.write_paused
            or message["type"] != "http.response.body"
        ):
            return RequestResponseCycle.send(self, message)
        return self._end(message)

    async def _end(self, message: Any) -> None:
        flow, self.flow = self.flow, _WRITABLE
        try:
            await RequestResponseCycle.send(self, message)
        finally:
            self.flow = flow


class LeanHttpToolsProtocol(HttpToolsProtocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.pipeline: Any = _Pipeline()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        writable = LeanEvent()
        writable.set()  # as FlowControl starts: writable
        self.flow._is_writable_event = writable

    def on_headers_complete(self) -> None:
        super().on_headers_complete()
        # The cycle was just made; its task has not run yet, so nothing waits on the event
        # and nothing has looked up its `send`.
        self.cycle.message_event = LeanEvent()
        self.cycle.__class__ = _EndingCycle


class DrainingServer(uvicorn.Server):
    """Uvicorn, with streams drained as soon as the shutdown signal arrives.

    Uvicorn alone would wait for the open connections until its graceful timeout and then
    cut them without a word; the drain has them closed, with a hint, right away.
    """

    def __init__(self, config: uvicorn.Config, drain: Drain) -> None:
        super().__init__(config)
        self._drain = drain

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        self._drain.request()
        super().handle_exit(sig, frame)


def lean_server(app: FastAPI, options: ServerOptions, *, cors: bool) -> uvicorn.Server:
    """The notifier's server: lean connections, streams on the fast path, drained on exit."""
    fast_path = StreamFastPath(app, cors=cors)
    config = options.config(
        fast_path,
        # Applied behind the fast path instead (see fast_path), with uvicorn's trusted hosts.
        proxy_headers=False,
        http=LeanHttpToolsProtocol,
    )
    # uvicorn and starlette spell the same ASGI types differently.
    proxied = ProxyHeadersMiddleware(cast(Any, app), trusted_hosts=config.forwarded_allow_ips)
    fast_path.others = cast(Any, proxied)
    drain: Drain = app.state.drain
    return DrainingServer(config, drain)
