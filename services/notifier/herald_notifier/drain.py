"""Draining on SIGTERM: every open stream is told to reconnect, then closed.

By the time SIGTERM arrives (after the pod's preStop sleep), the replica is out of the
Service's endpoints. Closing the streams at once, each with a final `retry:`, sends the
clients to another replica, where they resume with Last-Event-ID and replay the gap.
Waiting for streams to end by themselves would never finish: SSE streams do not end.
The signal reaches the drain through uvicorn's server (`compat.DrainingServer`).
"""

from __future__ import annotations

import asyncio
import logging
import random

from herald_notifier.domain.registry import Registry

logger = logging.getLogger(__name__)

FAREWELL_COMMENT = "server shutting down; reconnect"


class Drain:
    def __init__(self, retry_ms: int) -> None:
        self._retry_ms = retry_ms
        self._registry: Registry | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.started = False

    def attach(self, registry: Registry) -> None:
        """Called from the lifespan, inside the running loop."""
        self._registry = registry
        self._loop = asyncio.get_running_loop()

    def request(self) -> None:
        """Safe from a signal handler: the work is handed to the event loop."""
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self.start)

    def start(self) -> None:
        if self.started or self._registry is None:
            return
        self.started = True
        streams = self._registry.size
        # Closing a subscriber wakes its stream, which then ends with the farewell frame.
        self._registry.close_all()
        logger.info("draining: told %d stream(s) to reconnect", streams, extra={"streams": streams})

    def farewell(self) -> bytes | None:
        """A stream's last frame, sending its client elsewhere; None unless draining.

        A stream that ends because of the drain (or opens during it) ends with this; one
        that ended for another reason (cut off, client gone) gets nothing more.
        """
        if not self.started:
            return None
        # Spread the reconnects so the remaining replicas do not take them all at once.
        retry = int(self._retry_ms * random.uniform(0.5, 1.5))
        # The frame as sse-starlette encoded it, CRLF line ends included.
        return b": %s\r\nretry: %d\r\n\r\n" % (FAREWELL_COMMENT.encode(), retry)
