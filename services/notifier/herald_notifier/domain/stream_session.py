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
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass
from typing import Protocol

from herald_common.stream_frames import RESET, TOKEN_EXPIRED
from herald_notifier.domain.delivery import Delivery
from herald_notifier.domain.gap_reads import GapReads
from herald_notifier.domain.inbox import Inbox, Scope, UnreadCount
from herald_notifier.domain.opening import Openings
from herald_notifier.domain.progress import DeliveryTally
from herald_notifier.domain.registry import Registry
from herald_notifier.domain.subscriber import Subscriber
from herald_notifier.domain.unread import HeldCount, Recount, unread_frame
from herald_notifier.metrics import NotifierMetrics

# `data:` of the frame that ends a stream whose token expired.
TOKEN_EXPIRED_DATA = json.dumps(
    {"reason": "the token expired: authenticate again and reconnect with Last-Event-ID"}
)


class ChunkWriter(Protocol):
    """Writes a live stream's chunks straight to its connection (the response's)."""

    def ready(self) -> bool:
        """Whether a chunk written now would go at once (the client is reading)."""
        ...

    def write(self, chunk: bytes) -> None: ...


@dataclass(frozen=True, slots=True)
class StreamContext:
    """What every stream of the process shares, built once: each idle stream keeps only a
    reference to it, not one to each part (docs/decisions/0032)."""

    inbox: Inbox
    # A stream of the employee's own channel reads its opening here, batched with others.
    openings: Openings
    registry: Registry
    metrics: NotifierMetrics
    tally: DeliveryTally
    retry_ms: int
    # Past this many missed events a stream sends `reset` instead of a backlog.
    replay_limit: int
    # Live gap reads, shared by the streams that need the same one (docs/decisions/0074).
    gap_reads: GapReads
    # Asks for an employee's unread count again (`UnreadCounter.mark`): a recount arrived
    # that a stream could not place.
    recount: Callable[[str], None]


class StreamSession:
    """One stream, made for a slot reserved for it (`Registry.reserve`): `close` gives the
    slot back."""

    __slots__ = (
        "_context",
        "_held",
        "_last_event_id",
        "_last_sent",
        "_scope",
        "_writer",
        "subscriber",
    )

    def __init__(
        self, context: StreamContext, subscriber: Subscriber, last_event_id: int | None
    ) -> None:
        self._context = context
        self.subscriber = subscriber
        self._last_event_id = last_event_id
        self._scope = Scope(subscriber.employee_id, subscriber.departments)
        # The newest id `replay()` sent or stood for; `live()` goes on from there.
        self._last_sent: int | None = None
        # The employee's unread count, read by `replay()` and kept by `live()`.
        self._held: HeldCount | None = None
        # Writes chunks from the offerer's stack once the stream is live (`write_directly`).
        self._writer: ChunkWriter | None = None

    def open(self) -> None:
        """Register for live events: before the replay, so nothing falls between the two."""
        self._context.registry.add(self.subscriber)
        self._context.metrics.open_streams.inc()

    def close(self) -> None:
        # The subscriber and the session refer to each other while direct: undone here,
        # so neither waits for a collection to go.
        self.subscriber.direct = None
        self._writer = None
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
                last_sent = self._last_sent or last_event_id
        self._last_sent = last_sent
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
            self._last_sent = start.latest_id
            head = b": connected\nid: %d\nretry: %d\n\n" % (start.latest_id, retry_ms)
            yield head + self._closing_frames(start.counted)
            return
        head = b": connected\nretry: %d\n\n" % retry_ms
        if start.missed == 0:
            self._last_sent = last_event_id
            metrics.replay_events.observe(0)
            yield head + self._closing_frames(start.counted)
            return
        # Sent at once, so proxies and clients see the stream is open even when quiet.
        yield head
        if start.missed > context.replay_limit:
            # Too much to stream: the client reloads its inbox over REST instead.
            self._last_sent = start.latest_id
            yield self._reset(start.latest_id)
        else:
            async for chunk in self._replayed(last_event_id):
                yield chunk
        yield self._closing_frames(start.counted)

    async def _replayed(self, last_event_id: int) -> AsyncGenerator[bytes, None]:
        """What the scope holds after `last_event_id`, in id order; `_last_sent` follows."""
        context = self._context
        self._last_sent, replayed = last_event_id, 0
        async for delivery in context.inbox.after(self._scope, last_event_id):
            yield delivery.frame(context.retry_ms)
            self._last_sent = delivery.event_id or self._last_sent
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
        self._held = HeldCount(counted)
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
        self._writer = writer
        self.subscriber.direct = self

    def write_now(self, now: float) -> bool:
        """Frame everything the subscriber holds and write it, from the caller's stack;
        False (nothing taken) when the stream's task must: an event needs the inbox read
        first, the token expired, or the client is not reading."""
        subscriber, writer = self.subscriber, self._writer
        if writer is None or now >= subscriber.expires_at or not writer.ready():
            return False
        if self._needs_inbox(subscriber.pending):
            return False
        chunk = self._framed(subscriber.take_now())
        if chunk:
            writer.write(chunk)
            subscriber.last_write = now
        return True

    async def live(self) -> AsyncGenerator[bytes, None]:
        """Everything offered to the subscriber after `replay()`, a write per batch, until
        it is cut off (then the client reconnects and replays) or its token expires."""
        if self._last_sent is None or self._held is None:
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
                yield b": ping\n\n"
                continue
            if self._needs_inbox(batch):
                chunk = await self._framed_with_inbox(batch)
            else:
                chunk = self._framed(batch)
            if chunk:
                # Everything that arrived since the last write leaves in one write.
                yield chunk

    def _needs_inbox(self, batch: list[Delivery]) -> bool:
        """Whether an event of `batch` must wait for the inbox: something of the scope
        before it may still be on its way (see `_in_hand`). Reads, changes nothing."""
        last_sent = self._last_sent or 0
        for live in batch:
            event_id = live.event_id
            if event_id is None or event_id <= last_sent:
                continue
            if self._sent_straight(live, last_sent):
                last_sent = event_id
                continue
            return True
        return False

    def _sent_straight(self, live: Delivery, last_sent: int) -> bool:
        """Whether a live event may be sent without reading the inbox: it says the
        employee's previous notification was `last_sent` or earlier. Only a stream of the
        employee's own channel can trust that previous id."""
        previous_id = live.previous_id
        return (
            not self.subscriber.departments and previous_id is not None and previous_id <= last_sent
        )

    def _framed(self, batch: list[Delivery]) -> bytes:
        """A batch that needs no inbox read (`_needs_inbox`), framed for one write."""
        frames: list[bytes] = []
        counted = False
        for live in batch:
            counted = self._in_hand(live, frames) or counted
        return self._with_count(frames, counted)

    async def _framed_with_inbox(self, batch: list[Delivery]) -> bytes:
        """A batch framed for one write, reading the inbox wherever an event needs it."""
        frames: list[bytes] = []
        counted = False
        for index, live in enumerate(batch):
            changed = self._in_hand(live, frames)
            if changed is None:
                changed = await self._gap_filled(batch, index, frames)
            counted = changed or counted
        return self._with_count(frames, counted)

    def _with_count(self, frames: list[bytes], counted: bool) -> bytes:
        """The frames, followed by the unread count when it changed."""
        if counted and self._held is not None:
            frames.append(unread_frame(self._held.unread, self._context.retry_ms))
        return b"".join(frames)

    def _in_hand(self, live: Delivery, frames: list[bytes]) -> bool | None:
        """Frame `live` from what is in hand; True when the unread count changed, None
        when the inbox must be read first (`_gap_filled`)."""
        held, context = self._held, self._context
        assert held is not None
        assert self._last_sent is not None
        event_id = live.event_id
        if event_id is None:
            if type(live) is Recount:
                if held.recounted(live.counted):
                    return True
                context.recount(self.subscriber.employee_id)
                return False
            frames.append(live.frame(context.retry_ms))  # progress, inbox states
            return False
        if event_id <= self._last_sent:
            return False  # already sent, replayed or older than the stream
        if self._sent_straight(live, self._last_sent):
            self._last_sent = event_id
            frames.append(live.frame(context.retry_ms))
            # A new notification is unread (unless the count already holds it).
            return held.sent(event_id)
        return None

    async def _gap_filled(self, batch: list[Delivery], index: int, frames: list[bytes]) -> bool:
        """Send what the inbox holds up to the newest id offered to this stream (all
        committed) and skip those as they come. A department's watchers share the read
        (GapReads), and its rows' frames. True when the unread count changed."""
        context, subscriber = self._context, self.subscriber
        held, last_sent = self._held, self._last_sent
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
        self._last_sent = newest
        context.metrics.gap_reads.inc()
        context.metrics.deliveries.labels("inbox").inc(filled)
        return counted
