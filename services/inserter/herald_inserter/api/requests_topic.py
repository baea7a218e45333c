"""The faust agents on the request topics: the inserter's way in.

One agent reads allocations and revocations, one reads pushes, so that a push is not
queued behind a large allocation: it goes between two of its chunks (docs/decisions/0068).

Values arrive as raw bytes and are decoded by the processor, so a malformed record is
dead-lettered instead of crashing the agent. A request is acked (and its offset later
committed) only after it is fully handled: the stream is faust's `noack()` one, acked by
hand. faust's own acking stream acks the event in hand from a `finally` when the agent is
stopped, so a SIGTERM in the middle of an allocation committed the offset of a request
never completed, and the restarted worker never saw it again (docs/decisions/0064).

On the public path (`compat`) faust's consumer reads uncommitted records too, and each
request is first confirmed committed (`CommittedRequests`); one of an aborted transaction is
passed over.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import faust

from herald_common.consumed import ConsumedRecord
from herald_inserter.api.committed_requests import CommittedRequests
from herald_inserter.domain.dispatcher import RequestDispatcher
from herald_inserter.metrics import PartitionProgress


def _record(event: Any) -> ConsumedRecord:
    message = event.message
    headers = message.headers or []
    if isinstance(headers, dict):
        headers = list(headers.items())
    return ConsumedRecord(
        topic=message.topic,
        partition=message.partition,
        offset=message.offset,
        key=message.key,
        value=message.value,
        headers=tuple((str(k), bytes(v or b"")) for k, v in headers),
    )


class SharedScope:
    """One dispatcher for all of the worker's agents: built when the first agent starts,
    closed when the last one stops. They share its transactional producer, whose
    transactions run one at a time (a second producer under the worker's transactional id
    would fence the first)."""

    def __init__(
        self, factory: Callable[[], AbstractAsyncContextManager[RequestDispatcher]]
    ) -> None:
        self._factory = factory
        self._users = 0
        self._stack: contextlib.AsyncExitStack | None = None
        self._dispatcher: RequestDispatcher | None = None
        self._lock = asyncio.Lock()

    @contextlib.asynccontextmanager
    async def __call__(self) -> AsyncIterator[RequestDispatcher]:
        async with self._lock:
            if self._stack is None:
                stack = contextlib.AsyncExitStack()
                self._dispatcher = await stack.enter_async_context(self._factory())
                self._stack = stack
            self._users += 1
            dispatcher = self._dispatcher
            assert dispatcher is not None
        try:
            yield dispatcher
        finally:
            async with self._lock:
                self._users -= 1
                if self._users == 0 and self._stack is not None:
                    stack, self._stack, self._dispatcher = self._stack, None, None
                    await stack.aclose()


def register_requests_agent(
    app: faust.App,
    topic_names: list[str],
    dispatcher_scope: Callable[[], AbstractAsyncContextManager[RequestDispatcher]],
    progress: PartitionProgress,
    *,
    confirm: Callable[[], CommittedRequests] | None = None,
    name: str = "requests",
) -> None:
    """`confirm` makes the check of the public path, in the agent's loop (None: no check,
    the consumer reads read_committed)."""
    # One agent over its topics: their records are handled strictly one after another.
    # Notification ids are published in the order they were drawn all the same across
    # agents, since each request's (or chunk's) write and Kafka commit happen inside one
    # transaction of the shared producer, and those run one at a time.
    topic = app.topic(*topic_names, key_serializer="raw", value_serializer="raw")

    @app.agent(topic, name=name)
    async def requests(stream: faust.StreamT[Any]) -> AsyncIterator[None]:
        # The agent's lifetime is the resources' lifetime: built in the running loop.
        committed = confirm() if confirm is not None else None
        async with dispatcher_scope() as dispatcher, committed or contextlib.nullcontext():
            async for _ in handle_each(stream, dispatcher, progress, committed):
                yield None


async def handle_each(
    stream: Any,
    dispatcher: RequestDispatcher,
    progress: PartitionProgress,
    committed: CommittedRequests | None,
) -> AsyncIterator[ConsumedRecord]:
    """Each request handled, then acked; one whose handling was cut short is never acked."""
    manual = stream.noack()
    async for event in manual.events():
        record = _record(event)
        if committed is None or await committed.committed(record):
            await dispatcher.handle(record)
        progress.done(record.topic, record.partition, record.offset)
        await manual.ack(event)
        yield record
