"""GET /v1/stream: the caller's private channel, plus the channels they ask for and may read.

Who is asking and what they may read is settled here; what their query says is read in
`stream_query`, and what the stream sends (replay, then live) is `StreamSession`'s.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request

from herald_common.auth import channel_auth
from herald_common.auth.channels import Channel, can_read, employee_channel
from herald_notifier.api.channel_access import require_readable
from herald_notifier.api.event_stream import EventStreamResponse
from herald_notifier.api.identity import authenticate_stream
from herald_notifier.api.stream_query import MAX_CHANNELS, MAX_LENGTH, StreamQuery, read_ticket
from herald_notifier.compat import access_line_at
from herald_notifier.domain.stream_session import StreamSession
from herald_notifier.domain.subscriber import Subscriber
from herald_notifier.runtime import NotifierRuntime, get_runtime
from herald_web.errors import error_responses

router = APIRouter(tags=["stream"])


def check_signatures(
    runtime: NotifierRuntime, ticket: str | None, channels: list[Channel], signatures: str
) -> None:
    """Pusher-model clients prove each channel with `key:signature` over (ticket, channel)."""
    credentials = runtime.settings.channel_auth_credentials()
    if credentials is None:
        raise HTTPException(400, "channel authorization is not enabled here")
    key, secret = credentials
    if ticket is None:
        raise HTTPException(400, "channel_auth needs the ticket it was signed for")
    given = signatures.split(",")
    if len(given) != len(channels):
        raise HTTPException(400, "give one channel_auth signature per requested channel")
    for channel, auth in zip(channels, given, strict=True):
        if not channel_auth.verify(key, secret, ticket, channel.name, auth):
            raise HTTPException(403, f"channel authorization for {channel.name} is invalid")


_NO_KEYS: frozenset[str] = frozenset()


def _keys(channels: list[Channel], kind: str) -> frozenset[str]:
    # Most streams ask for no extra channel: they share one empty set instead of two each.
    keys = [c.key for c in channels if c.kind == kind]
    return frozenset(keys) if keys else _NO_KEYS


async def open_stream(request: Request, runtime: NotifierRuntime) -> EventStreamResponse:
    """Authorise the caller and their channels, then start their stream.

    Reads its parameters from the request itself, so the FastAPI route and the lean
    fast path (see `fast_path`) share every check.
    """
    ticket = read_ticket(request)
    principal = await authenticate_stream(request, runtime, ticket)
    employee_id = principal.employee_id
    if employee_id is None:
        raise HTTPException(403, "only employees have streams")
    query = StreamQuery.read(request, ticket)
    for channel in query.channels:
        require_readable(principal, channel)
    if query.channel_auth is not None:
        check_signatures(runtime, query.ticket, query.channels, query.channel_auth)
    assert can_read(principal, employee_channel(employee_id))
    registry = runtime.registry
    # Reserved here, before anything is awaited; the session gives the slot back.
    if not registry.reserve(employee_id, runtime.settings.max_streams_per_employee):
        raise HTTPException(
            429, "too many open streams for this employee", headers={"Retry-After": "5"}
        )
    try:
        response = await _start(runtime, employee_id, query, principal.expires_at)
    except BaseException:
        registry.release(employee_id)
        raise
    # A reconnecting replica's clients open thousands of streams a second; their lines are
    # DEBUG unless asked for (docs/decisions/0091). Refused opens keep uvicorn's INFO line.
    level = runtime.settings.stream_access_level
    if level != logging.INFO:
        access_line_at(request.scope, level)
    return response


def _loop_time(epoch_seconds: int | None) -> float:
    """When a token's `exp` comes, on the event loop's clock (the Heartbeat's)."""
    if epoch_seconds is None:
        return math.inf
    return asyncio.get_running_loop().time() + (epoch_seconds - time.time())


async def _start(
    runtime: NotifierRuntime, employee_id: str, query: StreamQuery, expires_at: int | None
) -> EventStreamResponse:
    department = await runtime.streams.openings.department_of(employee_id)
    if department is None:
        raise HTTPException(404, "the caller is not in the employee directory")
    watched = _keys(query.channels, "department")
    share = runtime.share
    if not share.holds((department, *watched)):
        # Its events are read by another share: held here, the stream would miss them.
        raise HTTPException(
            421,
            f"this notifier reads the departments of partition share {share}, not all of"
            " this stream's; open it through the gateway, which sends it to its share",
        )
    subscriber = Subscriber(
        employee_id,
        department,
        runtime.settings.subscriber_queue_size,
        departments=watched,
        allocations=_keys(query.channels, "allocation"),
        expires_at=_loop_time(expires_at),
    )
    last_words = runtime.drain.farewell
    if runtime.drain.started:
        # A stream opened once the drain began is sent on at once, with the farewell alone.
        runtime.registry.release(employee_id)
        return EventStreamResponse(None, subscriber=subscriber, last_words=last_words)
    session = StreamSession(runtime.streams, subscriber, query.last_event_id)
    return EventStreamResponse(session, subscriber=subscriber, last_words=last_words)


@router.get(
    "/v1/stream",
    response_model=None,
    responses={
        200: {
            "content": {"text/event-stream": {"schema": {"type": "string"}}},
            "description": "Server-Sent Events: notifications, unread counts, progress",
        },
        **error_responses(400, 401, 403, 404, 421, 429),
    },
)
async def stream(
    request: Request,
    runtime: Annotated[NotifierRuntime, Depends(get_runtime)],
    # stream_query's limits, for the OpenAPI description; open_stream reads the query itself.
    channels: Annotated[list[str], Query(max_length=MAX_CHANNELS)] = [],  # noqa: B006
    ticket: Annotated[str | None, Query(max_length=MAX_LENGTH["ticket"])] = None,
    channel_auth_signatures: Annotated[
        str | None, Query(alias="channel_auth", max_length=MAX_LENGTH["channel_auth"])
    ] = None,
    last_event_id: Annotated[str | None, Query(max_length=MAX_LENGTH["last_event_id"])] = None,
) -> EventStreamResponse:
    """Authenticate with a single-use `ticket`, the session cookie, or a Bearer header.

    `channels` adds channels the caller may read; `last_event_id` (or the Last-Event-ID
    header) replays what was missed. (Usually served by the fast path; same checks.)
    """
    return await open_stream(request, runtime)
