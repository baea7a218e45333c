"""The Pusher HTTP API, for Pusher's server SDKs: trigger, batch, channel state, terminate.

Every request is signed as Pusher's are (herald_common.auth.pusher_signature): the app's
key, a timestamp within 600 s, `body_md5`, and the HMAC over method, path and sorted
query, compared in constant time. Answers are Pusher's: JSON on success, and on failure
the status Pusher documents (400, 401, 404, 413) with a plain-text explanation, which the
SDKs put into the exception they raise.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import PlainTextResponse
from starlette.responses import Response

from herald_channels.domain.directory import Broadcaster, Directory, terminate_connections
from herald_channels.domain.trigger_publisher import TriggerPublisher
from herald_channels.domain.triggers import (
    Trigger,
    TriggerRefused,
    parse_batch,
    parse_body,
    parse_event,
    parse_info,
    valid_channel,
)
from herald_common.auth.pusher_signature import SignatureRejected, verify

T = TypeVar("T")
PRESENCE_PREFIX = "presence-"
# A batch is 10 events of 10 KB of data each, which JSON escaping can double.
MAX_BODY_BYTES = 256 * 1024


@dataclass(slots=True)
class PusherApp:
    """What the HTTP API answers for: one Pusher app, its state and where events go."""

    app_id: str
    key: str
    secret: str
    directory: Directory
    broadcaster: Broadcaster
    triggers: TriggerPublisher
    clock: Callable[[], float] = field(default=time.time)


class PusherApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _pusher_app(request: Request) -> PusherApp:
    app: PusherApp | None = getattr(request.app.state, "pusher_app", None)
    if app is None:
        # No secret configured: nothing could be signed, so no request can be right.
        raise PusherApiError(404, "The Pusher HTTP API is not enabled on this server")
    return app


async def _signed(request: Request) -> tuple[PusherApp, bytes]:
    """The app and the raw body, once the request's signature is verified."""
    app = _pusher_app(request)
    app_id = request.path_params.get("app_id")
    if app_id is not None and app_id != app.app_id:
        raise PusherApiError(404, f"Unknown app_id: {app_id}")
    body = await request.body()
    # The path exactly as sent: the SDKs sign it unescaped, as it goes on the wire.
    raw_path = request.scope.get("raw_path") or request.url.path.encode()
    params = dict(request.query_params)
    try:
        verify(
            key=app.key,
            secret=app.secret,
            method=request.method,
            path=raw_path.decode("latin-1"),
            params=params,
            body=body,
            now=app.clock(),
        )
    except SignatureRejected as exc:
        raise PusherApiError(401, str(exc)) from None
    return app, body


Signed = Annotated[tuple[PusherApp, bytes], Depends(_signed)]

router = APIRouter(tags=["pusher-http-api"])

_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "Malformed request; the plain-text body says what is wrong"},
    401: {"description": "Bad signature, unknown key or expired timestamp (plain text)"},
    404: {"description": "Unknown app_id (plain text)"},
    413: {"description": "Event data over 10 KB (plain text)"},
    503: {"description": "Kafka did not take the event; retry"},
}


_EVENT_FIELDS: dict[str, Any] = {
    "name": {"type": "string", "maxLength": 200},
    "data": {"type": "string", "description": "at most 10 KB (UTF-8)"},
    "socket_id": {"type": "string", "description": "this socket does not get the event"},
    "info": {"type": "string", "description": "subscription_count,user_count"},
}


def _json_body(schema: dict[str, Any]) -> dict[str, Any]:
    # The bodies are read raw (their MD5 is signed), so their schemas are declared here.
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


_EVENT_BODY = _json_body(
    {
        "type": "object",
        "properties": {
            **_EVENT_FIELDS,
            "channels": {"type": "array", "items": {"type": "string"}, "maxItems": 100},
            "channel": {"type": "string"},
        },
        "required": ["name", "data"],
    }
)
_BATCH_BODY = _json_body(
    {
        "type": "object",
        "properties": {
            "batch": {
                "type": "array",
                "maxItems": 10,
                "items": {
                    "type": "object",
                    "properties": {**_EVENT_FIELDS, "channel": {"type": "string"}},
                    "required": ["name", "data", "channel"],
                },
            }
        },
        "required": ["batch"],
    }
)


async def _channel_info(app: PusherApp, channel: str, info: frozenset[str]) -> dict[str, int]:
    answer: dict[str, int] = {}
    if "subscription_count" in info:
        answer["subscription_count"] = await app.directory.occupancy(channel)
    if "user_count" in info and channel.startswith(PRESENCE_PREFIX):
        answer["user_count"] = len(await app.directory.members(channel))
    return answer


async def _publish(app: PusherApp, triggers: list[Trigger]) -> None:
    try:
        await app.triggers.publish(triggers)
    except Exception as exc:
        # Kafka did not acknowledge: nothing is promised, and the SDK's caller may retry.
        raise PusherApiError(503, f"The event could not be queued, retry: {exc}") from exc


def _checked(parse: Callable[[], T]) -> T:
    """`parse()`, its refusal answered as Pusher does (400 or 413, plain text)."""
    try:
        return parse()
    except TriggerRefused as exc:
        raise PusherApiError(exc.status, str(exc)) from None


async def _trigger(
    signed: tuple[PusherApp, bytes], parse: Callable[[dict[str, Any]], list[Trigger]]
) -> tuple[PusherApp, list[Trigger]]:
    """The body's events, checked, then sent: the answer waits for Kafka."""
    app, body = signed
    triggers = _checked(lambda: parse(parse_body(body)))
    await _publish(app, triggers)
    return app, triggers


@router.post("/apps/{app_id}/events", responses=_ERRORS, openapi_extra=_EVENT_BODY)
async def trigger_event(app_id: str, signed: Signed) -> dict[str, Any]:
    """Trigger one event on up to 100 channels (`channels`, or `channel`)."""
    app, (trigger,) = await _trigger(signed, lambda body: [parse_event(body)])
    if not trigger.info:
        return {}
    return {
        "channels": {
            channel: await _channel_info(app, channel, trigger.info) for channel in trigger.channels
        }
    }


@router.post("/apps/{app_id}/batch_events", responses=_ERRORS, openapi_extra=_BATCH_BODY)
async def trigger_batch(app_id: str, signed: Signed) -> dict[str, Any]:
    """Trigger up to 10 events, each on one channel."""
    app, triggers = await _trigger(signed, parse_batch)
    if not any(trigger.info for trigger in triggers):
        return {}
    return {
        "batch": [
            await _channel_info(app, trigger.channels[0], trigger.info) for trigger in triggers
        ]
    }


@router.get("/apps/{app_id}/channels", responses=_ERRORS)
async def list_channels(
    app_id: str, signed: Signed, filter_by_prefix: str = "", info: str | None = None
) -> dict[str, Any]:
    """Occupied channels, optionally by prefix; `info=user_count` for presence channels."""
    app, _ = signed
    attributes = _checked(lambda: parse_info(info))
    if "subscription_count" in attributes:
        raise PusherApiError(400, "Only user_count may be requested for a list of channels")
    if "user_count" in attributes and not filter_by_prefix.startswith(PRESENCE_PREFIX):
        raise PusherApiError(
            400, "user_count may only be requested with filter_by_prefix=presence-"
        )
    occupied = await app.directory.occupied(filter_by_prefix)
    return {
        "channels": {
            channel: await _channel_info(app, channel, attributes) for channel in sorted(occupied)
        }
    }


@router.get("/apps/{app_id}/channels/{channel_name}", responses=_ERRORS)
async def channel_state(
    app_id: str, channel_name: str, signed: Signed, info: str | None = None
) -> dict[str, Any]:
    """Whether a channel is occupied; `subscription_count`, and `user_count` (presence)."""
    app, _ = signed
    channel = _checked(lambda: valid_channel(channel_name))
    attributes = _checked(lambda: parse_info(info))
    if "user_count" in attributes and not channel.startswith(PRESENCE_PREFIX):
        raise PusherApiError(400, "user_count may only be requested for presence channels")
    occupancy = await app.directory.occupancy(channel)
    return {"occupied": occupancy > 0, **await _channel_info(app, channel, attributes)}


@router.get("/apps/{app_id}/channels/{channel_name}/users", responses=_ERRORS)
async def channel_users(app_id: str, channel_name: str, signed: Signed) -> dict[str, Any]:
    """A presence channel's users, one entry per user however many sockets they hold."""
    app, _ = signed
    channel = _checked(lambda: valid_channel(channel_name))
    if not channel.startswith(PRESENCE_PREFIX):
        raise PusherApiError(400, "Users may only be retrieved for presence channels")
    return {"users": [{"id": member.user_id} for member in await app.directory.members(channel)]}


async def _terminate(user_id: str, app: PusherApp) -> dict[str, Any]:
    try:
        valid_channel(user_id)
    except TriggerRefused:
        raise PusherApiError(400, f"Invalid user id: {user_id}") from None
    try:
        await terminate_connections(app.broadcaster, user_id)
    except Exception as exc:
        raise PusherApiError(503, f"The termination could not be queued, retry: {exc}") from exc
    return {}


@router.post("/apps/{app_id}/users/{user_id}/terminate_connections", responses=_ERRORS)
async def terminate_user_connections(app_id: str, user_id: str, signed: Signed) -> dict[str, Any]:
    """Close every connection signed in as the user, on every replica."""
    return await _terminate(user_id, signed[0])


@router.post("/users/{user_id}/terminate_connections", responses=_ERRORS)
async def terminate_user_connections_unprefixed(user_id: str, signed: Signed) -> dict[str, Any]:
    """The same, at the path the Python SDK (3.3) posts to, without `/apps/{app_id}`."""
    return await _terminate(user_id, signed[0])


async def _answer(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, PusherApiError)
    return PlainTextResponse(str(exc), status_code=exc.status)


def install(app: FastAPI) -> None:
    """Adds the routes and Pusher's plain-text error answers to the service's app."""
    app.include_router(router)
    app.add_exception_handler(PusherApiError, _answer)
