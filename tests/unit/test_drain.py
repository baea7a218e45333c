"""The drain: closing every stream once, and a farewell only for streams it closed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from herald_notifier.api.event_stream import EventStreamResponse
from herald_notifier.domain.registry import Registry
from herald_notifier.domain.subscriber import Subscriber
from herald_notifier.drain import FAREWELL_COMMENT, Drain
from tests.support.stream_steps import Steps


def _stream(registry: Registry, subscriber: Subscriber) -> Steps:
    async def connected() -> AsyncIterator[bytes]:
        yield b": connected\r\n\r\n"

    async def live() -> AsyncIterator[bytes]:
        while await subscriber.take() is not None:
            yield b"data: live\r\n\r\n"

    return Steps(
        connected,
        live,
        on_open=lambda: registry.add(subscriber),
        on_close=lambda: registry.remove(subscriber),
    )


async def _serve(steps: Steps | None, subscriber: Subscriber, drain: Drain) -> list[bytes]:
    """What the client receives: the body chunks of the stream's response."""
    sent: list[bytes] = []

    async def send(message):
        if message["type"] == "http.response.body" and message["body"]:
            sent.append(message["body"])

    async def receive():
        await asyncio.Event().wait()  # the client stays connected

    response = EventStreamResponse(steps, subscriber=subscriber, last_words=drain.farewell)
    await response({"type": "http"}, receive, send)
    return sent


def _comments(chunks: list[bytes]) -> list[str]:
    lines = [line for chunk in chunks for line in chunk.decode().splitlines()]
    return [line.removeprefix(":").strip() for line in lines if line.startswith(":")]


async def test_drain_closes_every_stream_with_a_farewell() -> None:
    registry = Registry()
    drain = Drain(retry_ms=3000)
    drain.attach(registry)
    subscribers = [Subscriber(f"E{n}", "Sales", 10) for n in range(3)]
    tasks = [asyncio.create_task(_serve(_stream(registry, s), s, drain)) for s in subscribers]
    while registry.size < len(subscribers):
        await asyncio.sleep(0)

    drain.request()  # as from the signal handler: runs on the loop, not in place
    assert not drain.started
    streams = await asyncio.wait_for(asyncio.gather(*tasks), 2)

    assert drain.started
    assert registry.size == 0
    for chunks in streams:
        assert _comments(chunks) == ["connected", FAREWELL_COMMENT]
        (retry,) = [
            int(line[6:]) for line in chunks[-1].decode().splitlines() if line.startswith("retry:")
        ]
        assert 1500 <= retry <= 4500


async def test_a_stream_cut_off_for_being_slow_gets_no_farewell() -> None:
    registry = Registry()
    drain = Drain(retry_ms=3000)
    drain.attach(registry)
    subscriber = Subscriber("E1", "Sales", 10)
    task = asyncio.create_task(_serve(_stream(registry, subscriber), subscriber, drain))
    while registry.size == 0:
        await asyncio.sleep(0)

    subscriber.close()
    chunks = await asyncio.wait_for(task, 2)

    assert _comments(chunks) == ["connected"]


async def test_a_stream_opened_during_the_drain_is_sent_on_at_once() -> None:
    registry = Registry()
    drain = Drain(retry_ms=3000)
    drain.attach(registry)
    drain.start()

    chunks = await _serve(None, Subscriber("E1", "HR", 10), drain)

    assert _comments(chunks) == [FAREWELL_COMMENT]
    assert registry.size == 0


async def test_ending_the_response_early_unregisters_the_stream_at_once() -> None:
    registry = Registry()
    drain = Drain(retry_ms=3000)
    subscriber = Subscriber("E1", "Sales", 10)
    task = asyncio.create_task(_serve(_stream(registry, subscriber), subscriber, drain))
    while registry.size == 0:
        await asyncio.sleep(0)

    task.cancel()  # e.g. the server shuts down the connection's task
    await asyncio.gather(task, return_exceptions=True)

    assert registry.size == 0
