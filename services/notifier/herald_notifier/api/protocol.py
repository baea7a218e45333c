"""uvicorn's httptools protocol with smaller per-connection containers.

An idle SSE stream keeps its connection's protocol objects for hours, so their size is
most of what an idle stream costs. uvicorn gives every connection a deque for pipelined
requests and two asyncio.Events (flow control, request messages), each waiting with a
deque; a deque allocates a 64-slot block up front, about 750 bytes with its object. Lists
do the same jobs here at a tenth of that: the pipeline holds a request or two at most and
an event one waiter. Together that is about 1.9 KB less per connection
(docs/decisions/0032). Behaviour is uvicorn's own; only the containers differ.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


class _Pipeline(list[Any]):
    """The deque operations uvicorn uses on its pipeline: appendleft, pop, truth."""

    def appendleft(self, item: Any) -> None:
        self.insert(0, item)


class LeanEvent(asyncio.Event):
    """asyncio.Event waiting with a list: it only appends, removes and iterates."""

    def __init__(self) -> None:
        super().__init__()
        self._waiters: Any = []


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
        # The cycle was just made; its task has not run yet, so nothing waits on the event.
        self.cycle.message_event = LeanEvent()
