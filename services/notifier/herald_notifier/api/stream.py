"""GET /v1/stream: an employee's private stream of notifications over SSE.

Order on connect (as in Mercure): register for live events first, replay the gap from the
inbox, then flush what arrived meanwhile, dropping anything the replay already sent.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request
from sse_starlette import EventSourceResponse, ServerSentEvent

from herald_notifier.domain.delivery import Delivery
from herald_notifier.domain.subscriber import Subscriber
from herald_notifier.drain import with_farewell
from herald_notifier.runtime import NotifierRuntime, get_runtime

router = APIRouter()

_MAX_EVENT_ID_DIGITS = 19  # bigint


def parse_last_event_id(header: str | None, query: str | None) -> int | None:
    raw = header if header not in (None, "") else query
    if raw in (None, ""):
        return None
    assert raw is not None
    if not raw.isascii() or not raw.isdigit() or len(raw) > _MAX_EVENT_ID_DIGITS:
        raise HTTPException(400, "Last-Event-ID must be a notification id (digits only)")
    return int(raw)


def _frame(delivery: Delivery, retry_ms: int) -> ServerSentEvent:
    return ServerSentEvent(
        data=delivery.data, event=delivery.event_type, id=str(delivery.event_id), retry=retry_ms
    )


async def _events(
    runtime: NotifierRuntime, subscriber: Subscriber, last_event_id: int | None
) -> AsyncIterator[ServerSentEvent]:
    registry, metrics, retry_ms = runtime.registry, runtime.metrics, runtime.settings.retry_ms
    registry.add(subscriber)
    metrics.connections.inc()
    try:
        # Sent at once, so proxies and clients see the stream is open even when quiet.
        yield ServerSentEvent(comment="connected", retry=retry_ms)
        last_sent = 0
        if last_event_id is not None:
            last_sent = last_event_id
            replayed = 0
            async for delivery in runtime.inbox.after(subscriber.employee_id, last_event_id):
                yield _frame(delivery, retry_ms)
                last_sent = delivery.event_id
                replayed += 1
                metrics.deliveries.labels("replay").inc()
            metrics.replay_events.observe(replayed)
        while True:
            live = await subscriber.next()
            if live is None:
                return  # cut off: the client reconnects and replays
            if live.event_id <= last_sent:
                continue  # already replayed
            yield _frame(live, retry_ms)
            last_sent = live.event_id
    finally:
        registry.remove(subscriber)
        metrics.connections.dec()


@router.get("/v1/stream")
async def stream(
    request: Request,
    runtime: Annotated[NotifierRuntime, Depends(get_runtime)],
    employee_id: Annotated[str | None, Query(max_length=64)] = None,
    last_event_id_query: Annotated[str | None, Query(alias="last_event_id")] = None,
    last_event_id_header: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
) -> EventSourceResponse:
    settings = runtime.settings
    if not settings.dev_mode:
        raise HTTPException(401, "stream authentication is required; dev mode is off")
    if not employee_id:
        raise HTTPException(400, "employee_id is required in dev mode")
    last_event_id = parse_last_event_id(last_event_id_header, last_event_id_query)
    department = await runtime.inbox.department_of(employee_id)
    if department is None:
        raise HTTPException(404, f"unknown employee {employee_id!r}")
    subscriber = Subscriber(employee_id, department, settings.subscriber_queue_size)
    return EventSourceResponse(
        with_farewell(_events(runtime, subscriber, last_event_id), runtime.drain),
        ping=settings.ping_seconds,
        send_timeout=settings.send_timeout_seconds,
        headers={"X-Accel-Buffering": "no", "Cache-Control": "no-cache"},
        # Lets a drained stream send its farewell before sse-starlette cancels it.
        shutdown_grace_period=settings.shutdown_grace_seconds,
    )
