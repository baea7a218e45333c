"""A live stream's position: the newest id it sent and its unread count, and each batch it
is offered framed from them, for one write.

Both of a stream's writers frame here: its own task (`StreamSession.live`) and the
consumer's flush, which writes to an idle stream without waking it (`write_now`,
docs/decisions/0088). This is the per-delivery part of a stream, so it is a module of the
compiled hot path (docs/decisions/0093): it holds no async generator, which mypyc cannot
compile. The inbox reads a batch may need stay with the session.
"""

from __future__ import annotations

from typing import Final

from herald_notifier.domain.delivery import Delivery
from herald_notifier.domain.stream_context import ChunkWriter, StreamContext
from herald_notifier.domain.subscriber import Subscriber
from herald_notifier.domain.unread import HeldCount, Recount, unread_frame

# An SSE comment: a quiet stream's keep-alive, which clients ignore.
PING: Final = b": ping\n\n"


class LiveFrames:
    """What one stream has sent, and how what it is offered next is framed.

    `last_sent` and `held` are set by the stream's replay (`StreamSession`), before it goes
    live; from then on both writers move them on, so each goes on from the other.
    """

    __slots__ = ("_context", "_writer", "held", "last_sent", "subscriber")

    def __init__(self, context: StreamContext, subscriber: Subscriber) -> None:
        self._context = context
        self.subscriber = subscriber
        # The newest id the replay sent or stood for, then the newest sent live.
        self.last_sent: int | None = None
        # The employee's unread count, read by the replay and kept from there.
        self.held: HeldCount | None = None
        # Writes chunks from the offerer's stack once the stream is live (`write_directly`).
        self._writer: ChunkWriter | None = None

    def write_directly(self, writer: ChunkWriter) -> None:
        """From here on, what the stream is offered while idle is written with `writer`
        from the offerer's stack (`write_now`), not by waking the stream's task."""
        self._writer = writer
        self.subscriber.direct = self

    def stop_writing(self) -> None:
        # The subscriber and this refer to each other while direct: undone here, so
        # neither waits for a collection to go.
        self.subscriber.direct = None
        self._writer = None

    def write_now(self, now: float) -> bool:
        """Frame everything the subscriber holds and write it, from the caller's stack;
        False (nothing taken) when the stream's task must: an event needs the inbox read
        first, the token expired, or the client is not reading."""
        subscriber, writer = self.subscriber, self._writer
        if writer is None or now >= subscriber.expires_at or not writer.ready():
            return False
        if self.needs_inbox(subscriber.pending):
            return False
        chunk = self.framed(subscriber.take_now())
        if chunk:
            writer.write(chunk)
            subscriber.last_write = now
        return True

    def ping_now(self, now: float) -> bool:
        """Write a ping from the caller's stack; False (nothing written) when the stream's
        task must: the token expired (the task ends the stream) or the client is not reading."""
        subscriber, writer = self.subscriber, self._writer
        if writer is None or now >= subscriber.expires_at or not writer.ready():
            return False
        writer.write(PING)
        subscriber.last_write = now
        return True

    def needs_inbox(self, batch: list[Delivery]) -> bool:
        """Whether an event of `batch` must wait for the inbox: something of the scope
        before it may still be on its way (see `in_hand`). Reads, changes nothing."""
        last_sent = self.last_sent or 0
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

    def framed(self, batch: list[Delivery]) -> bytes:
        """A batch that needs no inbox read (`needs_inbox`), framed for one write."""
        frames: list[bytes] = []
        counted = False
        for live in batch:
            counted = self.in_hand(live, frames) or counted
        return self.with_count(frames, counted)

    def with_count(self, frames: list[bytes], counted: bool) -> bytes:
        """The frames, followed by the unread count when it changed."""
        held = self.held
        if counted and held is not None:
            frames.append(unread_frame(held.unread, self._context.retry_ms))
        return b"".join(frames)

    def in_hand(self, live: Delivery, frames: list[bytes]) -> bool | None:
        """Frame `live` from what is in hand; True when the unread count changed, None
        when the inbox must be read first (`StreamSession`'s gap read)."""
        held, context, last_sent = self.held, self._context, self.last_sent
        assert held is not None
        assert last_sent is not None
        event_id = live.event_id
        if event_id is None:
            if isinstance(live, Recount):
                if held.recounted(live.counted):
                    return True
                context.recount(self.subscriber.employee_id)
                return False
            frames.append(live.frame(context.retry_ms))  # progress, inbox states
            return False
        if event_id <= last_sent:
            return False  # already sent, replayed or older than the stream
        if self._sent_straight(live, last_sent):
            self.last_sent = event_id
            frames.append(live.frame(context.retry_ms))
            # A new notification is unread (unless the count already holds it).
            return held.sent(event_id)
        return None
