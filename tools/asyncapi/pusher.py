"""The Pusher WebSocket (`/app/{key}?protocol=7` on the channels service): its channel and
its messages, both ways (docs/decisions/0056-0058)."""

from __future__ import annotations

from typing import Any

from herald_common.stream_frames import UNREAD_COUNT
from tools.asyncapi.refs import message_refs
from tools.asyncapi.stream import INBOX_KINDS, WATCHER_KINDS

_TEXT = {"type": "string"}


def _message(
    name: str, summary: str, event: str | dict[str, Any], data: dict[str, Any], channel: bool
) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "event": {"const": event} if isinstance(event, str) else event,
        "data": data,
    }
    required = ["event", "data"]
    if channel:
        properties["channel"] = _TEXT
        required.append("channel")
    return {
        "name": name,
        "title": summary,
        "summary": summary,
        "contentType": "application/json",
        "payload": {"type": "object", "required": required, "properties": properties},
    }


def _json_text(description: str) -> dict[str, Any]:
    return {"type": "string", "contentMediaType": "application/json", "description": description}


# Server to client.
SENT = {
    "PusherConnectionEstablished": _message(
        "PusherConnectionEstablished",
        "The socket is open",
        "pusher:connection_established",
        _json_text('`{"socket_id": "<digits>.<digits>", "activity_timeout": 120}`'),
        channel=False,
    ),
    "PusherSubscriptionSucceeded": _message(
        "PusherSubscriptionSucceeded",
        "A subscription succeeded",
        "pusher_internal:subscription_succeeded",
        _json_text(
            '`{}`, or on presence channels `{"presence": {"ids": [...], "hash": {id: '
            'user_info}, "count": n}}`, one entry per user.'
        ),
        channel=True,
    ),
    "PusherSubscriptionError": _message(
        "PusherSubscriptionError",
        "A subscription was refused",
        "pusher:subscription_error",
        {
            "type": "object",
            "properties": {"type": _TEXT, "error": _TEXT, "status": {"type": "integer"}},
            "description": "401 for a signature that does not verify, 400 for presence "
            "channel_data without a user_id. The socket stays open.",
        },
        channel=True,
    ),
    "PusherMember": _message(
        "PusherMember",
        "A presence member joined or left",
        {"enum": ["pusher_internal:member_added", "pusher_internal:member_removed"]},
        _json_text(
            '`{"user_id", "user_info"}` (added) or `{"user_id"}` (removed): once per user, '
            "with their first socket and their last, across every replica."
        ),
        channel=True,
    ),
    "PusherError": _message(
        "PusherError",
        "An error",
        "pusher:error",
        {
            "type": "object",
            "properties": {"code": {"type": ["integer", "null"]}, "message": _TEXT},
            "description": "4001 unknown app key, 4007 protocol, 4009 sign-in refused or "
            "connections terminated, 4100 over capacity (each then closes with that code); "
            "4301 a client event refused (off, wrong channel, or over 10 per second).",
        },
        channel=False,
    ),
    "PusherSigninSuccess": _message(
        "PusherSigninSuccess",
        "Signed in",
        "pusher:signin_success",
        _json_text('`{"user_data": "..."}`; the socket then holds `#server-to-user-<id>`.'),
        channel=False,
    ),
    "PusherNotification": _message(
        "PusherNotification",
        "A Herald notification",
        {"enum": [*INBOX_KINDS, *WATCHER_KINDS]},
        _json_text(
            "The CloudEvent as on the SSE stream; its `id` is the notification id. On "
            "`private-employee-<id>` and `private-department-<name>` every notification "
            "after the cursor (`last_id` in the signed channel_data) or the channel's "
            "watermark is replayed on subscribe, in id order, once; then live. "
            "`private-allocation-<id>` carries an allocation's progress, live only."
        ),
        channel=True,
    ),
    "PusherUnreadCount": _message(
        "PusherUnreadCount",
        "The employee's unread count",
        UNREAD_COUNT,
        _json_text('`{"unread": n}`: after the replay and after new notifications.'),
        channel=True,
    ),
    "PusherChannelEvent": _message(
        "PusherChannelEvent",
        "An event triggered on a channel",
        _TEXT,
        _json_text(
            "Whatever the HTTP API or a client event sent; client events on presence "
            "channels carry the sender's `user_id` beside `data`."
        ),
        channel=True,
    ),
}

# Client to server.
RECEIVED = {
    "PusherSubscribe": _message(
        "PusherSubscribe",
        "Subscribe to a channel",
        "pusher:subscribe",
        {
            "type": "object",
            "required": ["channel"],
            "properties": {
                "channel": _TEXT,
                "auth": {
                    "type": "string",
                    "description": "`<key>:<HMAC-SHA256 hex>` of `socket_id:channel` (or "
                    "`socket_id:channel:channel_data`), for private- and presence- channels.",
                },
                "channel_data": _json_text(
                    'Presence: `{"user_id", "user_info"}`. Herald\'s channels: '
                    '`{"last_id": n}`, the replay cursor.'
                ),
            },
        },
        channel=False,
    ),
    "PusherUnsubscribe": _message(
        "PusherUnsubscribe",
        "Leave a channel",
        "pusher:unsubscribe",
        {"type": "object", "required": ["channel"], "properties": {"channel": _TEXT}},
        channel=False,
    ),
    "PusherSignin": _message(
        "PusherSignin",
        "Sign in as a user",
        "pusher:signin",
        {
            "type": "object",
            "required": ["auth", "user_data"],
            "properties": {
                "auth": {"type": "string", "description": "signs `socket_id::user::user_data`"},
                "user_data": _json_text('`{"id": "<user id>", ...}`'),
            },
        },
        channel=False,
    ),
    "PusherClientEvent": _message(
        "PusherClientEvent",
        "A client event",
        {"type": "string", "pattern": "^client-"},
        {"description": "Sent to the channel's other subscribers (off by default)."},
        channel=True,
    ),
}

# Both ways: a ping is answered with a pong; the server's pong confirms the notifications
# written before its ping (the watermark).
BOTH = {
    "PusherPing": _message(
        "PusherPing",
        "Ping (either side); answered with pusher:pong",
        {"enum": ["pusher:ping", "pusher:pong"]},
        {"type": "object"},
        channel=False,
    ),
}


def messages() -> dict[str, Any]:
    return SENT | RECEIVED | BOTH


def channel() -> dict[str, Any]:
    return {
        "address": "/app/{key}",
        "title": "A Pusher Channels connection (WebSocket, protocol 7)",
        "description": (
            "For unmodified Pusher clients (pusher-js, Laravel Echo, pusher_channels_flutter): "
            "`wss://<host>/app/<app key>?protocol=7` on the channels service. One JSON "
            "message per WebSocket frame. Private and presence channels are authorized by "
            "`POST /v1/channel-auth` (Herald's channels by the SSE stream's rules; presence "
            "for any employee), sign-in by `POST /v1/user-auth`. A socket silent for the "
            "activity timeout is pinged; without a pong it is closed with 4201 and the client "
            "reconnects. A socket too far behind is closed with 4200. No auth failure "
            "closes with a 42xx code."
        ),
        "parameters": {"key": {"description": "The app key (HERALD_CHANNELS_APP_KEY)."}},
        "servers": [{"$ref": "#/servers/channels"}],
        "messages": message_refs(messages()),
    }


def server() -> dict[str, Any]:
    return {
        "host": "herald.example.com",
        "protocol": "wss",
        "description": "The channels service (port 6001), behind the deployment's ingress.",
    }
