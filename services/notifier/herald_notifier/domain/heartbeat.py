"""One clock for every open stream: a ping for the quiet ones, a cut-off for the stuck ones,
a wake-up for those whose token expired (the stream then ends itself, with a last frame).

A timer per stream for its ping, and another around every write for its send timeout,
would allocate and cancel a timer for each frame sent: that cost more than the write
itself under a burst. One task looks over all streams once a second instead; a ping or a
cut-off a second late changes nothing.
"""

from __future__ import annotations

import asyncio
import logging

from herald_common.gc_tuning import collection_paused
from herald_notifier.domain.registry import Registry

logger = logging.getLogger(__name__)


class Heartbeat:
    def __init__(
        self,
        registry: Registry,
        *,
        ping_seconds: float,
        send_timeout_seconds: float,
        interval_seconds: float = 1.0,
    ) -> None:
        self._registry = registry
        self._ping_seconds = ping_seconds
        self._send_timeout = send_timeout_seconds
        self._interval = min(interval_seconds, ping_seconds / 2)

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(self._interval)
            # The sweep's list of every stream dies with it: no collection pass walks it
            # (a pass that met it cost a millisecond more per 10,000 streams, decision 0073).
            with collection_paused():
                self.beat(loop.time())

    def beat(self, now: float) -> int:
        """Ping the quiet streams and cut off the stuck ones; returns how many were cut off."""
        stalled = 0
        for subscriber in self._registry.subscribers():
            since = subscriber.writing_since
            if since is not None:
                if now - since >= self._send_timeout:
                    # The reader stopped reading; it reconnects and replays from the inbox.
                    subscriber.stall()
                    self._registry.cut_off(subscriber)
                    stalled += 1
            elif now >= subscriber.expires_at or now - subscriber.last_write >= self._ping_seconds:
                # An expired stream stays registered until it ends, so a last write that
                # gets stuck is still cut off.
                subscriber.ping()
        if stalled:
            logger.info("cut off %d stream(s) whose reader stopped reading", stalled)
        return stalled
