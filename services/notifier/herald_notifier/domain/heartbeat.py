"""One clock for every open stream: a ping for the quiet ones, a cut-off for the stuck ones,
a wake-up for those whose token expired (the stream then ends itself, with a last frame).

A timer per stream for its ping, and another around every write for its send timeout,
would allocate and cancel a timer for each frame sent: that cost more than the write
itself under a burst. One task looks over all streams once a second instead; a ping or a
cut-off a second late changes nothing.

The second's look is spread over it, a slice of the streams every `1/SLICES` of it, like
a timer wheel: looking at 10,000 streams and waking the hundreds due a ping in one go held
the event loop for several ms every second, and every live event that arrived meanwhile
waited behind it (docs/decisions/0075). A quiet stream idle in its wait is pinged from
here, in one write, without waking its task (docs/decisions/0096).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from herald_notifier.domain.registry import Registry
from herald_notifier.domain.subscriber import Subscriber

logger = logging.getLogger(__name__)

# Slices a round is spread over: at 10,000 streams, 500 looked at (and a few dozen pinged)
# every 50 ms.
SLICES = 20


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
        tick = self._interval / SLICES
        while True:
            # Every stream open at the round's start is looked at once in the round; one
            # opened meanwhile waits for the next round, as it would for the next sweep.
            streams = self._registry.subscribers()
            size = -(-len(streams) // SLICES)
            for start in range(0, SLICES * size or 1, size or 1):
                await asyncio.sleep(tick)
                self._look_at(streams[start : start + size], loop.time())
            del streams

    def beat(self, now: float) -> int:
        """Ping the quiet streams and cut off the stuck ones, all of them at once; returns
        how many were cut off."""
        return self._look_at(self._registry.subscribers(), now)

    def _look_at(self, streams: Sequence[Subscriber], now: float) -> int:
        stalled = 0
        for subscriber in streams:
            if subscriber.closed and subscriber.writer is None:
                continue  # its stream ended since the round began
            since = subscriber.writing_since
            if since is not None:
                if now - since >= self._send_timeout:
                    # The reader stopped reading; it reconnects and replays from the inbox.
                    subscriber.stall()
                    self._registry.cut_off(subscriber)
                    stalled += 1
            elif now >= subscriber.expires_at:
                # Woken, it ends itself. An expired stream stays registered until it ends,
                # so a last write that gets stuck is still cut off.
                subscriber.ping()
            elif now - subscriber.last_write >= self._ping_seconds and not subscriber.ping_now(now):
                # Not written from here (an idle stream is, by `ping_now`): its task pings.
                subscriber.ping()
        if stalled:
            logger.info("cut off %d stream(s) whose reader stopped reading", stalled)
        return stalled
