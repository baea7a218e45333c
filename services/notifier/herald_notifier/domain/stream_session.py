"""One stream's frames: registered first, then `replay()` what it missed, then `live()`.

The order is Mercure's and centrifuge's: register for live events before reading the inbox,
so nothing falls between the two; replay the gap; then flush what arrived meanwhile,
dropping anything the replay already sent. The stream's response drives the steps
(`open`, `replay`, `live`, `close`), so an idle stream holds only its live step.

A stream sends notification ids in increasing order, each at most once, and never skips one
(docs/decisions/0030). Ids commit in order (0005), but events reach the notifier in another
order: two topics, many partitions, several producers. So a live event is sent straight
away only when it says the employee's previous notification was already sent (or earlier);
otherwise the stream first reads the inbox up to that id, which has committed, and sends
what it finds there. A fresh stream starts with an `id:` line naming the newest id in its
scope, so even a client that has received nothing yet reconnects from where it was.

A stream lives as long as the token it was opened with (docs/decisions/0008): once that
expires it sends nothing more but a `token-expired` frame, and ends. The client
authenticates again and reconnects with Last-Event-ID, so it misses nothing.

What the stream has sent, and the framing of each live batch from it, is its `LiveFrames`
(domain/live_frames.py): the part the consumer's direct writes share, compiled with the
rest of the hot path (docs/decisions/0093). The inbox reads stay here.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator

from herald_common.stream_frames import RESET, TOKEN_EXPIRED
from herald_notifier.domain.delivery import Delivery
from herald_notifier.domain.inbox import Scope, UnreadCount
from herald_notifier.domain.live_frames import PING, LiveFrames
from herald_notifier.domain.stream_context import ChunkWriter, StreamContext
from herald_notifier.domain.subscriber import Subscriber
from herald_notifier.domain.unread import HeldCount, unread_frame

__all__ = ["RESET", "ChunkWriter", "StreamContext", "StreamSession"]

# `data:` of the frame that ends a stream whose token expired.
TOKEN_EXPIRED_DATA = json.dumps(
    {"reason": "the token expired: authenticate again and reconnect with Last-Event-ID"}
)


class StreamSession:
    """One stream, made for a slot reserved for it (`Registry.reserve`): `close` gives the
    slot back."""

    __slots__ = ("_context", "_last_event_id", "_live", "_scope", "subscriber")

    def __init__(
        self, context: StreamContext, subscriber: Subscriber, last_event_id: int | None
    ) -> None:
        self._context = context
        self.subscriber = subscriber
        self._last_event_id = last_event_id
        self._scope = Scope(subscriber.employee_id, subscriber.departments)
        # The newest id sent and the unread count: `replay()` sets them, `live()` and the
        # consumer's direct writes go on from there.
        self._live = LiveFrames(context, subscriber)

    def open(self) -> None:
        """Register for live events: before the replay, so nothing falls between the two."""
        self._context.registry.add(self.subscriber)
        self._context.metrics.open_streams.inc()

    def close(self) -> None:
        self._live.stop_writing()
        registry = self._context.registry
        registry.remove(self.subscriber)
        registry.release(self.subscriber.employee_id)
        self._context.metrics.open_streams.dec()

    async def replay(self) -> AsyncGenerator[bytes, None]:
        """The opening: what was missed (or `reset`), the unread count, progress so far."""
        if not self._scope.departments:
            async for chunk in self._replay_own():
                yield chunk
            return
        context, scope, subscriber = self._context, self._scope, self.subscriber
        inbox, metrics, retry_ms = context.inbox, context.metrics, context.retry_ms
        last_event_id, replay_limit = self._last_event_id, context.replay_limit
        if last_event_id is None:
            # Registered first, so everything after this id reaches the stream live.
            last_sent = await inbox.latest_id(scope)
            yield f": connected\nid: {last_sent}\nretry: {retry_ms}\n\n".encode()
        else:
            # Sent at once, so proxies and clients see the stream is open even when quiet.
            yield f": connected\nretry: {retry_ms}\n\n".encode()
            last_sent = last_event_id
            if await inbox.missed_more_than(scope, last_event_id, replay_limit):
                # Too much to stream: the client reloads its inbox over REST instead.
                last_sent = await inbox.latest_id(scope)
                reset = {
                    "reason": "too many missed events",
                    "limit": replay_limit,
                    "inbox": "/v1/notifications",
                }
                yield Delivery(last_sent, RESET, "", "", json.dumps(reset)).frame(retry_ms)
                metrics.resets.inc()
            else:
                async for chunk in self._replayed(last_event_id):
                    yield chunk
                last_sent = self._live.last_sent or last_event_id
        self._live.last_sent = last_sent
        counts = await inbox.unread_counts([subscriber.employee_id])
        yield self._closing_frames(counts[subscriber.employee_id])

    async def _replay_own(self) -> AsyncGenerator[bytes, None]:
        """`replay()` of a stream of the employee's own channel alone: its start read in one
        query batched with the other streams opening meanwhile (`Openings`), and the opening
        written at once when nothing was missed (docs/decisions/0076)."""
        context, subscriber = self._context, self.subscriber
        retry_ms, last_event_id, metrics = context.retry_ms, self._last_event_id, context.metrics
        # Registered first (`open()`), so everything after the start reaches the stream live.
        start = await context.openings.start(subscriber.employee_id, last_event_id)
        if last_event_id is None:
            self._live.last_sent = start.latest_id
            head = b": connected\nid: %d\nretry: %d\n\n" % (start.latest_id, retry_ms)
            yield head + self._closing_frames(start.counted)
            return
        head = b": connected\nretry: %d\n\n" % retry_ms
        if start.missed == 0:
            self._live.last_sent = last_event_id
            metrics.replay_events.observe(0)
            yield head + self._closing_frames(start.counted)
            return
        # Sent at once, so proxies and clients see the stream is open even when quiet.
        yield head
        if start.missed > context.replay_limit:
            # Too much to stream: the client reloads its inbox over REST instead.
            self._live.last_sent = start.latest_id
            yield self._reset(start.latest_id)
        else:
            async for chunk in self._replayed(last_event_id):
                yield chunk
        yield self._closing_frames(start.counted)

    async def _replayed(self, last_event_id: int) -> AsyncGenerator[bytes, None]:
        """What the scope holds after `last_event_id`, in id order; the position follows."""
        context, position = self._context, self._live
        position.last_sent, replayed = last_event_id, 0
        async for delivery in context.inbox.after(self._scope, last_event_id):
            yield delivery.frame(context.retry_ms)
            position.last_sent = delivery.event_id or position.last_sent
            replayed += 1
        context.metrics.replay_events.observe(replayed)
        context.metrics.deliveries.labels("replay").inc(replayed)

    def _reset(self, last_sent: int) -> bytes:
        context = self._context
        reset = {
            "reason": "too many missed events",
            "limit": context.replay_limit,
            "inbox": "/v1/notifications",
        }
        context.metrics.resets.inc()
        return Delivery(last_sent, RESET, "", "", json.dumps(reset)).frame(context.retry_ms)

    def _closing_frames(self, counted: UnreadCount) -> bytes:
        """The opening's end: the unread count (which `live()` keeps from here), then the
        progress so far of watched allocations (progress frames carry no id and are not
        replayed; the count so far is)."""
        subscriber, context = self.subscriber, self._context
        self._live.held = HeldCount(counted)
        frames = [unread_frame(counted.unread, context.retry_ms)]
        for allocation_id in subscriber.allocations:
            delivered = context.tally.frame_for(allocation_id)
            if delivered is not None:
                frames.append(delivered.frame(context.retry_ms))
        return b"".join(frames)

    def write_directly(self, writer: ChunkWriter) -> None:
        """From here on, what the stream is offered while idle is written with `writer`
        from the offerer's stack (`write_now`), not by waking the stream's task. Called
        between `replay()` and `live()`; `close` undoes it."""
        self._live.write_directly(writer)

    async def live(self) -> AsyncGenerator[bytes, None]:
        """Everything offered to the subscriber after `replay()`, a write per batch, until
        it is cut off (then the client reconnects and replays) or its token expires."""
        position = self._live
        if position.last_sent is None or position.held is None:
            raise RuntimeError("live() goes on from where replay() ended: replay first")
        subscriber, retry_ms = self.subscriber, self._context.retry_ms
        clock = asyncio.get_running_loop().time
        while True:
            batch = await subscriber.take()
            if batch is None:
                return  # cut off: the client reconnects and replays
            if clock() >= subscriber.expires_at:
                # Nothing more for this token (the Heartbeat wakes an idle stream for this).
                yield Delivery(None, TOKEN_EXPIRED, "", "", TOKEN_EXPIRED_DATA).frame(retry_ms)
                return
            if not batch:
                yield PING
                continue
            if position.needs_inbox(batch):
                chunk = await self._framed_with_inbox(batch)
            else:
                chunk = position.framed(batch)
            if chunk:
                # Everything that arrived since the last write leaves in one write.
                yield chunk

    async def _framed_with_inbox(self, batch: list[Delivery]) -> bytes:
        """A batch framed for one write, reading the inbox wherever an event needs it."""
        position = self._live
        frames: list[bytes] = []
        counted = False
        for index, live in enumerate(batch):
            changed = position.in_hand(live, frames)
            if changed is None:
                changed = await self._gap_filled(batch, index, frames)
            counted = changed or counted
        return position.with_count(frames, counted)

    async def _gap_filled(self, batch: list[Delivery], index: int, frames: list[bytes]) -> bool:
        """Send what the inbox holds up to the newest id offered to this stream (all
        committed) and skip those as they come. A department's watchers share the read
        (GapReads), and its rows' frames. True when the unread count changed."""
        context, subscriber, position = self._context, self.subscriber, self._live
        held, last_sent = position.held, position.last_sent
        assert held is not None
        assert last_sent is not None
        live_id = batch[index].event_id or 0
        newest = max(live_id, subscriber.newest_offered)
        found: dict[int, Delivery] = {
            delivery.event_id or 0: delivery
            for delivery in await context.gap_reads.rows(self._scope, last_sent, newest)
        }
        filled = len(found)
        # Everything offered so far is in this batch or was sent before; events in hand
        # that the inbox does not hold (a producer that wrote no row) still go.
        for other in batch[index:]:
            if other.event_id is not None and last_sent < other.event_id <= newest:
                found.setdefault(other.event_id, other)
        counted = False
        for event_id in sorted(found):
            delivery = found[event_id]
            frames.append(delivery.frame(context.retry_ms))
            if delivery.employee_id == subscriber.employee_id:
                counted = held.sent(event_id) or counted
        position.last_sent = newest
        context.metrics.gap_reads.inc()
        context.metrics.deliveries.labels("inbox").inc(filled)
        return counted
