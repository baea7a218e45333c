"""Pusher Channels protocol 7: message shapes, close codes and channel kinds.

Every message is a JSON object with `event`, `data` and, for channel events, `channel`.
The server's own `pusher:` and `pusher_internal:` events carry their data as a JSON string,
as Pusher's servers do and as every client library expects.
"""

from __future__ import annotations

import json
import random
from typing import Any, Final

PROTOCOL: Final = 7

# Close codes. 4000-4099: the client must not reconnect as it is. 4100-4199: reconnect
# after a pause. 4200-4299: reconnect at once. An auth failure is never 42xx, since the
# client would reconnect in a loop.
UNKNOWN_APP: Final = 4001
UNSUPPORTED_PROTOCOL: Final = 4007
UNAUTHORIZED: Final = 4009
OVER_CAPACITY: Final = 4100
RECONNECT: Final = 4200
PONG_TIMEOUT: Final = 4201
# pusher:error codes that do not close the socket.
CLIENT_EVENT_REJECTED: Final = 4301

CLIENT_EVENT_PREFIX: Final = "client-"
PRIVATE_PREFIX: Final = "private-"
ENCRYPTED_PREFIX: Final = "private-encrypted-"
PRESENCE_PREFIX: Final = "presence-"
SERVER_TO_USER_PREFIX: Final = "#server-to-user-"


def new_socket_id() -> str:
    """`\\d+\\.\\d+`, as pusher-js and the server SDKs check."""
    return f"{random.randrange(1, 10**9)}.{random.randrange(1, 10**9)}"


def needs_auth(channel: str) -> bool:
    return channel.startswith((PRIVATE_PREFIX, PRESENCE_PREFIX))


def is_presence(channel: str) -> bool:
    return channel.startswith(PRESENCE_PREFIX)


def allows_client_events(channel: str) -> bool:
    # Encrypted channels are end-to-end: the server cannot see what a client sends.
    return channel.startswith((PRIVATE_PREFIX, PRESENCE_PREFIX)) and not channel.startswith(
        ENCRYPTED_PREFIX
    )


def message(event: str, data: Any, channel: str | None = None, user_id: str | None = None) -> str:
    """One message; `data` that is not yet a string is JSON-encoded into one."""
    body: dict[str, Any] = {"event": event}
    if channel is not None:
        body["channel"] = channel
    body["data"] = data if isinstance(data, str) else json.dumps(data, separators=(",", ":"))
    if user_id is not None:
        body["user_id"] = user_id
    return json.dumps(body, separators=(",", ":"))


def error(code: int | None, text: str) -> str:
    return json.dumps({"event": "pusher:error", "data": {"code": code, "message": text}})


def subscription_error(channel: str, status: int, text: str) -> str:
    return json.dumps(
        {
            "event": "pusher:subscription_error",
            "channel": channel,
            "data": {"type": "AuthError", "error": text, "status": status},
        }
    )


def connection_established(socket_id: str, activity_timeout: int) -> str:
    return message(
        "pusher:connection_established",
        {"socket_id": socket_id, "activity_timeout": activity_timeout},
    )
