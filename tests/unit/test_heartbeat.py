"""The heartbeat: pings for quiet streams, a cut-off for a write that is stuck."""

import asyncio
import contextlib

from herald_notifier.api.event_stream import EventStreamResponse
from herald_notifier.domain import heartbeat as heartbeat_module
from herald_notifier.domain.delivery import Delivery
from herald_notifier.domain.heartbeat import Heartbeat
from herald_notifier.domain.registry import Registry
from herald_notifier.domain.subscriber import Subscriber
from tests.support.stream_steps import Steps


def _delivery(event_id: int) -> Delivery:
    return Delivery(event_id, "herald.voucher.allocated", "E1", "Sales", "{}")


def heartbeat(registry: Registry) -> Heartbeat:
    return Heartbeat(registry, ping_seconds=15, send_timeout_seconds=30)


async def test_a_quiet_stream_is_asked_for_a_ping_and_a_recent_one_is_not():
    registry = Registry()
    quiet, busy = Subscriber("E1", "Sales", 5), Subscriber("E2", "Sales", 5)
    quiet.last_write, busy.last_write = 100.0, 110.0
    for s in (quiet, busy):
        registry.add(s)
    assert heartbeat(registry).beat(now=116.0) == 0
    assert await asyncio.wait_for(quiet.take(), 1) == []  # the ping
    waiting = asyncio.create_task(busy.take())
    await asyncio.sleep(0.01)
    assert not waiting.done()
    busy.close()
    assert await waiting is None


async def test_a_stream_whose_token_expired_is_woken_to_end_itself():
    registry = Registry()
    expired = Subscriber("E1", "Sales", 5, expires_at=115.0)
    valid = Subscriber("E2", "Sales", 5, expires_at=117.0)
    for s in (expired, valid):
        s.last_write = 115.5  # written just now: no ping due
        registry.add(s)
    assert heartbeat(registry).beat(now=116.0) == 0
    assert await asyncio.wait_for(expired.take(), 1) == []  # woken: the stream sees the time
    waiting = asyncio.create_task(valid.take())
    await asyncio.sleep(0.01)
    assert not waiting.done()
    valid.close()
    await waiting
    # Still registered until its stream ends, so a last write that sticks is still cut off.
    assert registry.size == 2
    assert not expired.closed


async def test_a_write_stuck_past_the_send_timeout_is_cut_off():
    cut: list[Subscriber] = []
    registry = Registry(on_cut_off=cut.append)
    stuck, writing = Subscriber("E1", "Sales", 5), Subscriber("E2", "Sales", 5)
    stuck.writing_since, writing.writing_since = 100.0, 125.0
    for s in (stuck, writing):
        registry.add(s)
    assert heartbeat(registry).beat(now=131.0) == 1
    assert cut == [stuck]
    assert stuck.closed
    assert stuck.stalled
    assert not writing.closed
    assert registry.size == 1


async def test_a_stalled_response_ends_quietly_and_unregisters():
    registry = Registry()
    subscriber = Subscriber("E1", "Sales", 5)
    registry.add(subscriber)
    sent: list[bytes] = []
    more: list[bool] = []
    never = asyncio.Event()

    async def send(message):
        if message["type"] == "http.response.body" and message["body"] == b"second":
            await never.wait()  # the reader stopped reading: the write never completes
        sent.append(message.get("body", b""))
        more.append(message.get("more_body", False))

    async def receive():
        await never.wait()
        return {"type": "http.disconnect"}

    async def chunks():
        yield b"first"
        yield b"second"
        yield b"third"

    steps = Steps(chunks, on_close=lambda: registry.remove(subscriber))
    response = EventStreamResponse(steps, subscriber=subscriber)
    serving = asyncio.create_task(response({"type": "http"}, receive, send))
    await asyncio.sleep(0.01)
    assert subscriber.writing_since is not None  # stuck on "second"
    heartbeat(registry).beat(now=subscriber.writing_since + 30)
    await asyncio.wait_for(serving, 1)  # ends, without raising CancelledError
    assert not serving.cancelled()
    # The response is ended (its last message), not abandoned: the server logs nothing.
    assert sent == [b"", b"first", b""]
    assert more[-1] is False
    assert registry.size == 0


async def test_a_buffer_filling_up_while_the_write_is_held_up_cuts_the_writer_off():
    cut: list[Subscriber] = []
    registry = Registry(on_cut_off=cut.append)
    subscriber = Subscriber("E1", "Sales", 2)
    registry.add(subscriber)
    sent: list[dict[str, object]] = []
    never = asyncio.Event()

    async def send(message):
        if message["type"] == "http.response.body" and message["body"] == b"1 event(s)":
            await never.wait()  # the reader stopped reading: the write never completes
        sent.append(message)

    async def receive():
        await never.wait()
        return {"type": "http.disconnect"}

    async def live():
        while (batch := await subscriber.take()) is not None:
            yield b"%d event(s)" % len(batch)

    steps = Steps(live=live, on_close=lambda: registry.remove(subscriber))
    response = EventStreamResponse(steps, subscriber=subscriber)
    serving = asyncio.create_task(response({"type": "http"}, receive, send))
    await asyncio.sleep(0.01)
    registry.dispatch(_delivery(1))
    await asyncio.sleep(0.01)
    assert subscriber.writing_since is not None  # held up on the first event

    for event_id in range(2, 5):  # the third one overflows the buffer of two
        registry.dispatch(_delivery(event_id))

    assert cut == [subscriber]
    # Cut off: the held-up write is given up and the response ends, though the reader
    # still reads nothing and the Heartbeat no longer sees the stream.
    await asyncio.wait_for(serving, 1)
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]
    assert sent[-1] == {"type": "http.response.body", "body": b"", "more_body": False}
    assert registry.size == 0


async def test_cancelling_a_stream_that_did_not_stall_still_cancels_it():
    subscriber = Subscriber("E1", "Sales", 5)
    never = asyncio.Event()

    async def send(message):
        await never.wait()

    async def receive():
        await never.wait()
        return {"type": "http.disconnect"}

    async def chunks():
        yield b"first"

    response = EventStreamResponse(Steps(chunks), subscriber=subscriber)
    serving = asyncio.create_task(response({"type": "http"}, receive, send))
    await asyncio.sleep(0.01)
    serving.cancel()
    await asyncio.gather(serving, return_exceptions=True)
    assert serving.cancelled()


class _Cycle:
    """A connection's receive() as uvicorn's: the request, then a wait until disconnect."""

    def __init__(self) -> None:
        self.gone = asyncio.Event()
        self.requested = False

    async def receive(self):
        if not self.requested:
            self.requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await self.gone.wait()
        return {"type": "http.disconnect"}


async def _serve_idle(receive):
    subscriber = Subscriber("E1", "Sales", 5)
    sent: list[bytes] = []

    async def send(message):
        sent.append(message.get("body", b""))

    async def chunks():
        while await subscriber.take() is not None:
            yield b": ping\n\n"

    response = EventStreamResponse(Steps(live=chunks), subscriber=subscriber)
    return subscriber, sent, asyncio.create_task(response({"type": "http"}, receive, send))


async def test_a_disconnect_ends_an_idle_stream_without_a_task_watching():
    cycle = _Cycle()
    tasks_before = len(asyncio.all_tasks())
    subscriber, _, serving = await _serve_idle(cycle.receive)
    await asyncio.sleep(0.01)
    assert len(asyncio.all_tasks()) == tasks_before + 1  # the stream's own task only
    assert not subscriber.closed
    cycle.gone.set()
    await asyncio.wait_for(serving, 1)
    assert subscriber.closed


async def test_a_receive_that_awaits_something_else_is_watched_by_a_task():
    gone = asyncio.Event()
    requested = False

    async def receive():
        nonlocal requested
        if not requested:
            requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await asyncio.sleep(0)  # a bare yield: not a future the watch can wait on
        await gone.wait()
        return {"type": "http.disconnect"}

    subscriber, _, serving = await _serve_idle(receive)
    await asyncio.sleep(0.01)
    assert not subscriber.closed
    gone.set()
    await asyncio.wait_for(serving, 1)
    assert subscriber.closed


async def test_a_stream_that_ends_first_stops_watching():
    cycle = _Cycle()
    subscriber, sent, serving = await _serve_idle(cycle.receive)
    await asyncio.sleep(0.01)
    subscriber.ping()
    await asyncio.sleep(0.01)
    subscriber.close()  # e.g. cut off: the stream ends while the client is still there
    await asyncio.wait_for(serving, 1)
    assert sent == [b"", b": ping\n\n", b""]
    # Nothing is left waiting on the connection's receive.
    assert not cycle.gone._waiters


async def test_a_round_looks_at_a_slice_of_the_streams_per_tick(monkeypatch):
    registry = Registry()
    streams = [Subscriber(f"E{n}", "Sales", 5) for n in range(40)]
    for s in streams:
        s.last_write = -1e9  # quiet for ever: each is due a ping when looked at
        registry.add(s)
    pinged_at_each_tick: list[int] = []

    async def tick(seconds: float) -> None:
        pinged_at_each_tick.append(sum(1 for s in streams if s._ping_due))
        if len(pinged_at_each_tick) > heartbeat_module.SLICES:
            raise asyncio.CancelledError

    monkeypatch.setattr(heartbeat_module.asyncio, "sleep", tick)
    beating = Heartbeat(registry, ping_seconds=15, send_timeout_seconds=30)
    with contextlib.suppress(asyncio.CancelledError):
        await beating.run()
    # 40 streams over 20 ticks: two more looked at (and pinged) on each, all in one round.
    assert pinged_at_each_tick == [2 * n for n in range(heartbeat_module.SLICES + 1)]


async def test_a_stream_that_ended_during_the_round_is_not_looked_at():
    cut: list[Subscriber] = []
    registry = Registry(on_cut_off=cut.append)
    ended = Subscriber("E1", "Sales", 5)
    ended.writing_since = 100.0  # its last write failed, then its stream ended
    registry.add(ended)
    round_of = registry.subscribers()
    ended.close()
    registry.remove(ended)
    assert heartbeat(registry)._look_at(round_of, now=200.0) == 0
    assert cut == []
