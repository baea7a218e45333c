"""The faust agent on the request topics (allocations, pushes, revocations): the inserter's way in.

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


def register_requests_agent(
    app: faust.App,
    topic_names: list[str],
    dispatcher_scope: Callable[[], AbstractAsyncContextManager[RequestDispatcher]],
    progress: PartitionProgress,
    *,
    confirm: Callable[[], CommittedRequests] | None = None,
) -> None:
    """`confirm` makes the check of the public path, in the agent's loop (None: no check,
    the consumer reads read_committed)."""
    # One agent over both topics: records are handled strictly one after another, so
    # notification ids are published in the order they were drawn.
    topic = app.topic(*topic_names, key_serializer="raw", value_serializer="raw")

    @app.agent(topic, name="requests")
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
