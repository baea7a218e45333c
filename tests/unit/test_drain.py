"""The drain: closing every stream once, and a farewell only for streams it closed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator

from sse_starlette import ServerSentEvent

from herald_notifier.domain.registry import Registry
from herald_notifier.domain.subscriber import Subscriber
from herald_notifier.drain import FAREWELL_COMMENT, Drain, with_farewell


async def _stream(registry: Registry, subscriber: Subscriber) -> AsyncIterator[ServerSentEvent]:
    registry.add(subscriber)
    try:
        yield ServerSentEvent(comment="connected")
        while await subscriber.take() is not None:
            yield ServerSentEvent(data="live")
    finally:
        registry.remove(subscriber)


async def _collect(events: AsyncIterator[ServerSentEvent]) -> list[ServerSentEvent]:
    return [event async for event in events]


async def test_drain_closes_every_stream_with_a_farewell() -> None:
    registry = Registry()
    drain = Drain(retry_ms=3000)
    drain.attach(registry)
    subscribers = [Subscriber(f"E{n}", "Sales", 10) for n in range(3)]
    tasks = [
        asyncio.create_task(_collect(with_farewell(_stream(registry, s), drain)))
        for s in subscribers
    ]
    while registry.size < len(subscribers):
        await asyncio.sleep(0)

    drain.request()  # as from the signal handler: runs on the loop, not in place
    assert not drain.started
    streams = await asyncio.wait_for(asyncio.gather(*tasks), 2)

    assert drain.started
    assert registry.size == 0
    for events in streams:
        assert [e.comment for e in events] == ["connected", FAREWELL_COMMENT]
        retry = events[-1].retry
        assert retry is not None
        assert 1500 <= retry <= 4500


async def test_a_stream_cut_off_for_being_slow_gets_no_farewell() -> None:
    registry = Registry()
    drain = Drain(retry_ms=3000)
    drain.attach(registry)
    subscriber = Subscriber("E1", "Sales", 10)
    task = asyncio.create_task(_collect(with_farewell(_stream(registry, subscriber), drain)))
    while registry.size == 0:
        await asyncio.sleep(0)

    subscriber.close()
    events = await asyncio.wait_for(task, 2)

    assert [e.comment for e in events] == ["connected"]


async def test_a_stream_opened_during_the_drain_is_sent_on_at_once() -> None:
    registry = Registry()
    drain = Drain(retry_ms=3000)
    drain.attach(registry)
    drain.start()

    events = await _collect(with_farewell(_stream(registry, Subscriber("E1", "HR", 10)), drain))

    assert [e.comment for e in events] == [FAREWELL_COMMENT]
    assert registry.size == 0


async def test_closing_the_response_early_unregisters_the_stream_at_once() -> None:
    registry = Registry()
    drain = Drain(retry_ms=3000)
    subscriber = Subscriber("E1", "Sales", 10)
    events = with_farewell(_stream(registry, subscriber), drain)
    assert isinstance(events, AsyncGenerator)
    assert (await anext(events)).comment == "connected"
    assert registry.size == 1

    await events.aclose()

    assert registry.size == 0
