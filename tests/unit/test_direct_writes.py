"""Live streams written from the offerer's stack: offers with wakes held, then a flush writes
to each idle stream directly, or wakes its task when only the task can write."""

from __future__ import annotations

import asyncio
import math

import pytest

from herald_common.stream_frames import TOKEN_EXPIRED
from herald_notifier.domain.delivery import Delivery
from herald_notifier.domain.live_frames import PING, LiveFrames
from herald_notifier.domain.registry import Registry
from herald_notifier.domain.subscriber import Subscriber
from tests.unit.test_heartbeat import heartbeat
from tests.unit.test_stream_session import (
    FakeInbox,
    Harness,
    frames,
    ids,
    live_stream,
    note,
    unread_counts,
)


class Writer:
    """A connection's direct writes, recorded; `reading` says whether the client reads."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self.reading = True

    def ready(self) -> bool:
        return self.reading

    def write(self, chunk: bytes) -> None:
        self.chunks.append(chunk)


async def _parked(harness: Harness, writer: Writer) -> asyncio.Future[bytes]:
    """The stream live with a direct writer, its task idle in `take()`; the future is the
    task's next chunk (what it yields to be written by its response)."""
    live = await live_stream(harness)
    harness.session.write_directly(writer)
    next_chunk = asyncio.ensure_future(anext(live))
    for _ in range(3):
        await asyncio.sleep(0)
    assert not next_chunk.done()
    return next_chunk


def _held_arrival(harness: Harness, *deliveries: Delivery) -> None:
    """The consumer's step: a partition's events offered with wakes held, then flushed."""
    harness.registry.hold_wakes()
    for delivery in deliveries:
        harness.arrive(delivery)
    harness.registry.flush(asyncio.get_running_loop().time())


async def _settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_a_held_offer_is_written_by_the_flush_and_the_task_stays_asleep():
    harness = Harness(FakeInbox([note(1), note(2)]), last_event_id=None)
    writer = Writer()
    next_chunk = await _parked(harness, writer)
    _held_arrival(harness, note(3, previous=2), note(4, previous=3))
    await _settle()
    assert ids(writer.chunks) == [3, 4]
    assert len(writer.chunks) == 1  # one write for the partition's events
    assert not next_chunk.done()
    next_chunk.cancel()


async def test_a_direct_write_carries_the_unread_count_it_raises():
    harness = Harness(FakeInbox([note(1), note(2)]), last_event_id=None)
    writer = Writer()
    next_chunk = await _parked(harness, writer)
    _held_arrival(harness, note(3, previous=2))
    assert [f.get("id") or f["event"] for f in frames(writer.chunks)][-1] == "unread-count"
    assert unread_counts(writer.chunks) == [3]
    next_chunk.cancel()


async def test_live_goes_on_after_a_direct_write_without_sending_it_again():
    harness = Harness(FakeInbox([note(1)]), last_event_id=None)
    writer = Writer()
    next_chunk = await _parked(harness, writer)
    _held_arrival(harness, note(2, previous=1))
    harness.arrive(note(2, previous=1))  # offered again (another replica's copy), woken
    harness.arrive(note(3, previous=2))
    chunk = await asyncio.wait_for(next_chunk, 1)
    assert ids(writer.chunks) == [2]
    assert ids([chunk]) == [3]


async def test_an_offer_without_held_wakes_wakes_the_task():
    harness = Harness(FakeInbox([note(1)]), last_event_id=None)
    writer = Writer()
    next_chunk = await _parked(harness, writer)
    harness.arrive(note(2, previous=1))
    assert ids([await asyncio.wait_for(next_chunk, 1)]) == [2]
    assert writer.chunks == []


async def test_an_event_that_needs_the_inbox_first_wakes_the_task():
    inbox = FakeInbox([note(1)])
    harness = Harness(inbox, last_event_id=None)
    writer = Writer()
    next_chunk = await _parked(harness, writer)
    inbox.commit(note(2, previous=1))  # 2 is still on its way to the notifier
    _held_arrival(harness, note(3, previous=2))
    assert ids([await asyncio.wait_for(next_chunk, 1)]) == [2, 3]
    assert writer.chunks == []


async def test_a_client_not_reading_has_its_task_wait_to_write():
    harness = Harness(FakeInbox([note(1)]), last_event_id=None)
    writer = Writer()
    writer.reading = False
    next_chunk = await _parked(harness, writer)
    _held_arrival(harness, note(2, previous=1))
    assert ids([await asyncio.wait_for(next_chunk, 1)]) == [2]
    assert writer.chunks == []


async def test_an_expired_token_has_its_task_end_the_stream():
    harness = Harness(FakeInbox([note(1)]), last_event_id=None)
    writer = Writer()
    next_chunk = await _parked(harness, writer)
    harness.subscriber.expires_at = asyncio.get_running_loop().time() - 1
    _held_arrival(harness, note(2, previous=1))
    assert frames([await asyncio.wait_for(next_chunk, 1)])[0]["event"] == TOKEN_EXPIRED
    assert writer.chunks == []


async def test_close_ends_direct_writes():
    harness = Harness(FakeInbox([]), last_event_id=None)
    next_chunk = await _parked(harness, Writer())
    direct = harness.subscriber.direct
    assert isinstance(direct, LiveFrames)
    assert direct.subscriber is harness.subscriber
    harness.session.close()
    assert harness.subscriber.direct is None
    next_chunk.cancel()


def _quiet_for(harness: Harness, seconds: float) -> float:
    """The Heartbeat's time once the stream has written nothing for `seconds`."""
    return harness.subscriber.last_write + seconds


async def test_a_quiet_idle_stream_is_pinged_by_the_heartbeat_and_its_task_stays_asleep():
    harness = Harness(FakeInbox([note(1)]), last_event_id=None)
    writer = Writer()
    next_chunk = await _parked(harness, writer)
    now = _quiet_for(harness, 16)
    heartbeat(harness.registry).beat(now)
    await _settle()
    assert writer.chunks == [PING]
    assert harness.subscriber.last_write == now
    assert not next_chunk.done()
    next_chunk.cancel()


async def test_a_stream_written_to_lately_is_not_pinged():
    harness = Harness(FakeInbox([note(1)]), last_event_id=None)
    writer = Writer()
    next_chunk = await _parked(harness, writer)
    heartbeat(harness.registry).beat(_quiet_for(harness, 14))
    await _settle()
    assert writer.chunks == []
    assert not next_chunk.done()
    next_chunk.cancel()


async def test_a_quiet_stream_whose_client_is_not_reading_is_pinged_by_its_task():
    harness = Harness(FakeInbox([note(1)]), last_event_id=None)
    writer = Writer()
    writer.reading = False
    next_chunk = await _parked(harness, writer)
    heartbeat(harness.registry).beat(_quiet_for(harness, 16))
    assert await asyncio.wait_for(next_chunk, 1) == PING
    assert writer.chunks == []


async def test_a_quiet_stream_whose_token_expired_is_woken_to_end_not_pinged():
    harness = Harness(FakeInbox([note(1)]), last_event_id=None)
    writer = Writer()
    next_chunk = await _parked(harness, writer)
    now = _quiet_for(harness, 16)
    harness.subscriber.expires_at = now - 1
    heartbeat(harness.registry).beat(now)
    assert frames([await asyncio.wait_for(next_chunk, 1)])[0]["event"] == TOKEN_EXPIRED
    assert writer.chunks == []


async def test_a_stream_with_something_to_take_is_not_pinged_directly():
    subscriber = Subscriber("E1", "Sales", 100)
    direct = Direct(subscriber)
    taking = await _taking(subscriber)
    held: list[Subscriber] = []
    subscriber.offer(_push(1, "E1"), held)  # buffered, its flush still to come
    assert not subscriber.ping_now(0.0)
    assert direct.pings == 0
    taking.cancel()


async def test_a_failing_direct_ping_leaves_the_ping_to_the_task(caplog: pytest.LogCaptureFixture):
    subscriber = Subscriber("E1", "Sales", 100)
    direct = Direct(subscriber, fails=True)
    taking = await _taking(subscriber)
    with caplog.at_level("ERROR"):
        assert not subscriber.ping_now(0.0)
    assert direct.pings == 1
    assert "direct ping to E1's stream failed" in caplog.text
    subscriber.ping()
    assert await asyncio.wait_for(taking, 1) == []  # woken for the ping


class Direct:
    """A subscriber's direct writes, counted; `fails` raises instead of writing."""

    def __init__(self, subscriber: Subscriber, *, fails: bool = False) -> None:
        self.subscriber = subscriber
        self.fails = fails
        self.calls = 0
        self.pings = 0
        self.written: list[Delivery] = []
        subscriber.direct = self

    def ping_now(self, now: float) -> bool:
        self.pings += 1
        if self.fails:
            raise OSError("connection reset")
        return True

    def write_now(self, now: float) -> bool:
        self.calls += 1
        if self.fails:
            raise OSError("connection reset")
        self.written.extend(self.subscriber.take_now())
        return True


def _push(event_id: int, employee: str) -> Delivery:
    return Delivery(event_id, "herald.notification.pushed", employee, "Sales", "{}")


async def _taking(subscriber: Subscriber) -> asyncio.Task[list[Delivery] | None]:
    taking = asyncio.ensure_future(subscriber.take())
    await asyncio.sleep(0)
    return taking


async def test_a_stream_offered_many_events_is_flushed_once():
    registry = Registry()
    subscriber = Subscriber("E1", "Sales", 100)
    registry.add(subscriber)
    direct = Direct(subscriber)
    taking = await _taking(subscriber)
    registry.hold_wakes()
    for n in (1, 2, 3):
        registry.dispatch(_push(n, "E1"))
    registry.flush(0.0)
    assert direct.calls == 1
    assert [d.event_id for d in direct.written] == [1, 2, 3]
    taking.cancel()


async def test_a_failing_direct_write_wakes_its_task_and_the_others_are_still_written(
    caplog: pytest.LogCaptureFixture,
):
    registry = Registry()
    failing, fine = Subscriber("E1", "Sales", 100), Subscriber("E2", "Sales", 100)
    registry.add(failing)
    registry.add(fine)
    Direct(failing, fails=True)
    direct = Direct(fine)
    failing_takes, fine_takes = await _taking(failing), await _taking(fine)
    registry.hold_wakes()
    registry.dispatch(_push(1, "E1"))
    registry.dispatch(_push(2, "E2"))
    registry.flush(0.0)
    batch = await asyncio.wait_for(failing_takes, 1)
    assert [d.event_id for d in batch or []] == [1]
    assert [d.event_id for d in direct.written] == [2]
    assert "direct write to E1's stream failed" in caplog.text
    fine_takes.cancel()


async def test_a_stream_whose_task_is_busy_is_left_to_it():
    registry = Registry()
    subscriber = Subscriber("E1", "Sales", 100, expires_at=math.inf)
    registry.add(subscriber)
    direct = Direct(subscriber)
    registry.hold_wakes()  # the stream's task is not in take(): replaying, or writing
    registry.dispatch(_push(1, "E1"))
    registry.flush(0.0)
    assert direct.calls == 0
    batch = await asyncio.wait_for(subscriber.take(), 1)
    assert [d.event_id for d in batch or []] == [1]
