"""GET /v1/stream: the caller's private channel, plus the channels they ask for and may read.

Order on connect (as in Mercure): register for live events first, replay the gap from the
inbox, then flush what arrived meanwhile, dropping anything the replay already sent.

A stream sends notification ids in increasing order, each at most once, and never skips one
(docs/decisions/0030). Ids commit in order (0005), but events reach the notifier in another
order: two topics, many partitions, several producers. So a live event is sent straight
away only when it says the employee's previous notification was already sent (or earlier);
otherwise the stream first reads the inbox up to that id, which has committed, and sends
what it finds there. A fresh stream starts with an `id:` line naming the newest id in its
scope, so even a client that has received nothing yet reconnects from where it was.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request

from herald_common.auth import channel_auth
from herald_common.auth.channels import (
    Channel,
    InvalidChannel,
    can_read,
    employee_channel,
    parse_channel,
)
from herald_common.auth.principal import Principal
from herald_common.stream_frames import RESET
from herald_notifier.api.event_stream import EventStreamResponse
from herald_notifier.api.identity import authenticate_stream
from herald_notifier.domain.delivery import Delivery
from herald_notifier.domain.inbox import Scope
from herald_notifier.domain.subscriber import Subscriber
from herald_notifier.domain.unread import unread_frame
from herald_notifier.runtime import NotifierRuntime, get_runtime
from herald_web.errors import error_responses

router = APIRouter(tags=["stream"])

_MAX_EVENT_ID_DIGITS = 19  # bigint


def parse_last_event_id(header: str | None, query: str | None) -> int | None:
    raw = header if header not in (None, "") else query
    if raw in (None, ""):
        return None
    assert raw is not None
    if not raw.isascii() or not raw.isdigit() or len(raw) > _MAX_EVENT_ID_DIGITS:
        raise HTTPException(400, "Last-Event-ID must be a notification id (digits only)")
    value = int(raw)
    if value > 2**63 - 1:
        raise HTTPException(400, "Last-Event-ID is out of range")
    return value


def requested_channels(values: list[str]) -> list[Channel]:
    """Channels from repeated and/or comma-separated `channels` parameters."""
    names = [name for value in values for name in value.split(",") if name]
    if len(names) > 20:
        raise HTTPException(400, "at most 20 channels per stream")
    try:
        return [parse_channel(name) for name in names]
    except InvalidChannel as exc:
        raise HTTPException(400, str(exc)) from exc


def authorize(principal: Principal, channels: list[Channel]) -> None:
    for channel in channels:
        if not can_read(principal, channel):
            raise HTTPException(403, f"not allowed to read {channel.name}")


def check_signatures(
    runtime: NotifierRuntime, ticket: str | None, channels: list[Channel], signatures: str
) -> None:
    """Pusher-model clients prove each channel with `key:signature` over (ticket, channel)."""
    key, secret = runtime.settings.channel_auth_key, runtime.settings.channel_auth_secret
    if key is None or secret is None:
        raise HTTPException(400, "channel authorization is not enabled here")
    if ticket is None:
        raise HTTPException(400, "channel_auth needs the ticket it was signed for")
    given = signatures.split(",")
    if len(given) != len(channels):
        raise HTTPException(400, "give one channel_auth signature per requested channel")
    for channel, auth in zip(channels, given, strict=True):
        if not channel_auth.verify(key, secret.get_secret_value(), ticket, channel.name, auth):
            raise HTTPException(403, f"channel authorization for {channel.name} is invalid")


async def _events(
    runtime: NotifierRuntime, subscriber: Subscriber, last_event_id: int | None
) -> AsyncIterator[bytes]:
    registry, metrics, inbox = runtime.registry, runtime.metrics, runtime.inbox
    settings = runtime.settings
    retry_ms, replay_limit = settings.retry_ms, settings.replay_limit
    registry.add(subscriber)
    metrics.connections.inc()
    scope = Scope(subscriber.employee_id, subscriber.departments)
    # Only a stream of the employee's own channel can trust a per-employee previous id.
    private_only = not subscriber.departments
    try:
        if last_event_id is None:
            # Registered first, so everything after this id reaches the stream live.
            last_sent = await inbox.latest_id(scope)
            yield f": connected\nid: {last_sent}\nretry: {retry_ms}\n\n".encode()
        else:
            # Sent at once, so proxies and clients see the stream is open even when quiet.
            yield f": connected\nretry: {retry_ms}\n\n".encode()
            last_sent = last_event_id
            if await inbox.missed_more_than(scope, last_event_id, replay_limit):
                # Too much to stream: the client reloads its inbox over REST instead.
                last_sent = await inbox.latest_id(scope)
                reset = {
                    "reason": "too many missed events",
                    "limit": replay_limit,
                    "inbox": "/v1/notifications",
                }
                yield Delivery(last_sent, RESET, "", "", json.dumps(reset)).frame(retry_ms)
                metrics.resets.inc()
            else:
                replayed = 0
                async for delivery in inbox.after(scope, last_event_id):
                    yield delivery.frame(retry_ms)
                    last_sent = delivery.event_id or last_sent
                    replayed += 1
                metrics.replay_events.observe(replayed)
                metrics.deliveries.labels("replay").inc(replayed)
        counts = await inbox.unread_counts([subscriber.employee_id])
        yield unread_frame(subscriber.employee_id, counts[subscriber.employee_id]).frame(retry_ms)
        for allocation_id in subscriber.allocations:
            # Progress frames carry no id and are not replayed; the count so far is.
            delivered = runtime.tally.frame_for(allocation_id)
            if delivered is not None:
                yield delivered.frame(retry_ms)
        while True:
            batch = await subscriber.take()
            if batch is None:
                return  # cut off: the client reconnects and replays
            if not batch:
                yield b": ping\n\n"
                continue
            frames = []
            for index, live in enumerate(batch):
                if live.event_id is None:
                    frames.append(live.frame(retry_ms))  # unread counts, progress
                    continue
                if live.event_id <= last_sent:
                    continue  # already sent, replayed or older than the stream
                if private_only and live.previous_id is not None and live.previous_id <= last_sent:
                    last_sent = live.event_id
                    frames.append(live.frame(retry_ms))
                    continue
                # Something earlier may still be on its way: send what the inbox holds up to
                # the newest id offered to this stream (all committed); skip those as they come.
                newest = max(live.event_id, subscriber.newest_offered)
                found: dict[int, Delivery] = {}
                async for delivery in inbox.after(scope, last_sent, until=newest):
                    found[delivery.event_id or 0] = delivery
                filled = len(found)
                # Everything offered so far is in this batch or was sent before; events in
                # hand that the inbox does not hold (a producer that wrote no row) still go.
                for other in batch[index:]:
                    if other.event_id is not None and last_sent < other.event_id <= newest:
                        found.setdefault(other.event_id, other)
                frames.extend(found[event_id].frame(retry_ms) for event_id in sorted(found))
                last_sent = newest
                metrics.gap_reads.inc()
                metrics.deliveries.labels("inbox").inc(filled)
            if frames:
                # Everything that arrived since the last write leaves in one write.
                yield b"".join(frames)
    finally:
        registry.remove(subscriber)
        metrics.connections.dec()


async def _nothing() -> AsyncIterator[bytes]:
    return
    yield


_MAX_QUERY = {"ticket": 128, "channel_auth": 4000, "last_event_id": 32}


def _query(request: Request, name: str) -> str | None:
    value = request.query_params.get(name)
    if value is not None and len(value) > _MAX_QUERY[name]:
        raise HTTPException(400, f"{name} is longer than {_MAX_QUERY[name]} characters")
    return value


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
    ticket = _query(request, "ticket")
    principal = await authenticate_stream(request, runtime, ticket)
    employee_id = principal.employee_id
    if employee_id is None:
        raise HTTPException(403, "only employees have streams")
    extra = requested_channels(request.query_params.getlist("channels"))
    authorize(principal, extra)
    signatures = _query(request, "channel_auth")
    if signatures is not None:
        check_signatures(runtime, ticket, extra, signatures)
    resume_from = parse_last_event_id(
        request.headers.get("last-event-id"), _query(request, "last_event_id")
    )
    settings = runtime.settings
    if runtime.registry.streams_of(employee_id) >= settings.max_streams_per_employee:
        raise HTTPException(
            429, "too many open streams for this employee", headers={"Retry-After": "5"}
        )
    department = await runtime.inbox.department_of(employee_id)
    if department is None:
        raise HTTPException(404, "the caller is not in the employee directory")
    assert can_read(principal, employee_channel(employee_id))
    subscriber = Subscriber(
        employee_id,
        department,
        settings.subscriber_queue_size,
        departments=_keys(extra, "department"),
        allocations=_keys(extra, "allocation"),
        private=True,
    )
    # A stream opened once the drain began is sent on at once, with the farewell alone.
    events = _nothing() if runtime.drain.started else _events(runtime, subscriber, resume_from)
    return EventStreamResponse(events, subscriber=subscriber, last_words=runtime.drain.farewell)


@router.get(
    "/v1/stream",
    response_model=None,
    responses={
        200: {
            "content": {"text/event-stream": {"schema": {"type": "string"}}},
            "description": "Server-Sent Events: notifications, unread counts, progress",
        },
        **error_responses(400, 401, 403, 404, 429),
    },
)
async def stream(
    request: Request,
    runtime: Annotated[NotifierRuntime, Depends(get_runtime)],
    channels: Annotated[list[str], Query(max_length=20)] = [],  # noqa: B006 (FastAPI copies it)
    ticket: Annotated[str | None, Query(max_length=128)] = None,
    channel_auth_signatures: Annotated[
        str | None, Query(alias="channel_auth", max_length=4000)
    ] = None,
    last_event_id: Annotated[str | None, Query(max_length=32)] = None,
) -> EventStreamResponse:
    """Authenticate with a single-use `ticket`, the session cookie, or a Bearer header.

    `channels` adds channels the caller may read; `last_event_id` (or the Last-Event-ID
    header) replays what was missed. (Usually served by the fast path; same checks.)
    """
    return await open_stream(request, runtime)
