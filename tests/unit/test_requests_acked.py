"""The inserter acks a request only once it is handled: never one whose handling was cut
short (a SIGTERM in the middle of an allocation), which faust's acking stream would ack."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest

from herald_inserter.api.requests_topic import handle_each
from herald_inserter.metrics import PartitionProgress


def _event(offset: int) -> Any:
    message = SimpleNamespace(
        topic="requests", partition=0, offset=offset, key=b"k", value=b"{}", headers=[]
    )
    return SimpleNamespace(message=message)


class _Stream:
    """faust's stream as the agent uses it: `noack()`, then its events and manual acks."""

    def __init__(self, events: list[Any]) -> None:
        self._events = events
        self.manual = False
        self.acked: list[int] = []

    def noack(self) -> _Stream:
        self.manual = True
        return self

    async def events(self) -> Any:
        for event in self._events:
            yield event

    async def ack(self, event: Any) -> bool:
        self.acked.append(event.message.offset)
        return True


class _Dispatcher:
    def __init__(self, stuck_at: int) -> None:
        self._stuck_at = stuck_at
        self.started: asyncio.Event = asyncio.Event()

    async def handle(self, record: Any) -> None:
        if record.offset == self._stuck_at:
            self.started.set()
            await asyncio.sleep(3600)  # an allocation in progress


async def test_a_request_is_acked_after_it_is_handled_and_not_when_cut_short() -> None:
    stream = _Stream([_event(1), _event(2)])
    dispatcher = _Dispatcher(stuck_at=2)

    async def consume() -> None:
        async for _ in handle_each(
            stream,
            dispatcher,  # type: ignore[arg-type]
            PartitionProgress("requests"),
            None,
        ):
            pass

    task = asyncio.create_task(consume())
    await asyncio.wait_for(dispatcher.started.wait(), 5)
    task.cancel()  # what stopping the worker does to its agent
    with pytest.raises(asyncio.CancelledError):
        await task
    assert stream.manual
    assert stream.acked == [1]
