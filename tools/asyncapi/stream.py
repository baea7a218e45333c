"""The notification stream (`GET /v1/stream`): its channel, its frames and its query."""

from __future__ import annotations

from typing import Any

from herald_common.catalogue import ALLOCATION_COMPLETED_TOPIC, TOPICS, Key
from herald_common.events import ALLOCATION_DELIVERED
from herald_common.stream_frames import (
    NOTIFICATION_STATE,
    NOTIFICATIONS_READ_ALL,
    RESET,
    TOKEN_EXPIRED,
    UNREAD_COUNT,
)
from tools.asyncapi.messages import MESSAGES
from tools.asyncapi.refs import message_name, message_refs, schema_ref

# Frames of the stream: the per-employee events (with `id:`, replayed from the inbox),
# then what an allocation's watchers hear (without an id), then the control frames.
INBOX_KINDS = tuple(kind for t in TOPICS if t.key is Key.DEPARTMENT for kind in t.kinds)
WATCHER_KINDS = (*ALLOCATION_COMPLETED_TOPIC.kinds, ALLOCATION_DELIVERED)
FRAMES = (
    *(f"{message_name(kind)}Frame" for kind in (*INBOX_KINDS, *WATCHER_KINDS)),
    "UnreadCountFrame",
    "NotificationStateFrame",
    "NotificationsReadAllFrame",
    "ResetFrame",
    "TokenExpiredFrame",
)


def _frame(name: str, title: str, summary: str, payload: str) -> dict[str, Any]:
    return {
        "name": name,
        "title": title,
        "summary": summary,
        "contentType": "application/json",
        "payload": schema_ref(payload),
    }


def _inbox_frame(kind: str) -> tuple[str, str]:
    return (
        f"{MESSAGES[message_name(kind)].title} (stream)",
        f"`event: {kind}`, `id:` the notification id (it moves Last-Event-ID and "
        "is replayed from the inbox), `data:` the event as JSON.",
    )


def _watcher_frame(kind: str) -> tuple[str, str]:
    return (
        f"{kind} for an allocation's watchers (stream)",
        f"`event: {kind}` on `private-allocation-<id>` (hr-admin): no `id:`, never "
        "replayed; after a reconnect read the allocation over REST.",
    )


def frames() -> dict[str, Any]:
    """The message components of the stream's frames."""
    result: dict[str, Any] = {}
    for kinds, describe in ((INBOX_KINDS, _inbox_frame), (WATCHER_KINDS, _watcher_frame)):
        for kind in kinds:
            name = message_name(kind)
            result[f"{name}Frame"] = _frame(f"{name}Frame", *describe(kind), f"{name}Event")
    result["AllocationDeliveredFrame"]["description"] = (
        "Sent by each notifier replica at most every "
        "HERALD_NOTIFIER_DELIVERED_INTERVAL_SECONDS while the allocation's vouchers reach "
        "open streams, and once to a watcher that connects: how many employees that replica "
        "reached live. Counts are per replica (named in `data.replica`)."
    )
    result["UnreadCountFrame"] = _frame(
        "UnreadCountFrame",
        "The unread count (stream)",
        f"`event: {UNREAD_COUNT}`, no `id:`: sent once the replay is done and after "
        "every change of the count (new notifications, read marks from any device).",
        "UnreadCount",
    )
    result["NotificationStateFrame"] = _frame(
        "NotificationStateFrame",
        "One inbox item's new state (stream)",
        f"`event: {NOTIFICATION_STATE}`, no `id:`: sent to every stream of the employee "
        "after an item is marked read or unread, archived or unarchived, from any device, "
        "so other tabs follow. Not replayed: reload the inbox over REST after a reconnect.",
        "NotificationState",
    )
    result["NotificationsReadAllFrame"] = _frame(
        "NotificationsReadAllFrame",
        "Everything read at once (stream)",
        f"`event: {NOTIFICATIONS_READ_ALL}`, no `id:`: after `POST "
        "/v1/notifications/read-all`, every item with an id up to `up_to` is read.",
        "NotificationsReadAll",
    )
    result["ResetFrame"] = _frame(
        "ResetFrame",
        "Too much missed to replay (stream)",
        f"`event: {RESET}`, `id:` the newest notification id: sent instead of the "
        "replay when a reconnect missed more than the replay limit. Reload the inbox over "
        "REST; the stream continues live from that id.",
        "StreamReset",
    )
    result["TokenExpiredFrame"] = _frame(
        "TokenExpiredFrame",
        "The stream's token expired (stream)",
        f"`event: {TOKEN_EXPIRED}`, no `id:`, then the stream ends: the token it was opened "
        "with (Bearer, session cookie, or the token a ticket was issued for) reached its "
        "`exp`, and nothing is sent after it. Authenticate again (a new session or ticket) "
        "and reconnect with Last-Event-ID: the replay sends what came since.",
        "StreamTokenExpired",
    )
    return result


def channel() -> dict[str, Any]:
    return {
        "address": "/v1/stream",
        "title": "An employee's notification stream (Server-Sent Events)",
        "description": (
            "`GET /v1/stream` answers `text/event-stream`. The caller is authenticated by a "
            "Bearer token, the session cookie (`POST /v1/session`) or a single-use ticket "
            "(`POST /v1/stream-tickets`), and always receives their own channel; "
            "`channels` adds `private-department-<name>` (its manager, hr-admin) and "
            "`private-allocation-<id>` (hr-admin). Each notification is a frame with `id:` "
            "(the notification id), `event:` (the CloudEvents type), `data:` (the event as "
            "JSON) and `retry:`. A comment (`: connected`) opens the stream and `: ping` "
            "comments keep it alive every 15 s. On reconnect the browser sends "
            "`Last-Event-ID` and the stream first replays everything after that id from the "
            "inbox, so nothing is missed and nothing repeats; past the replay limit it sends "
            f"`{RESET}` instead. Frames without `id:` (unread counts, an allocation's progress) "
            "are live only. When a server shuts down, every stream ends with "
            "`: server shutting down; reconnect` and a `retry:`; clients reconnect to "
            "another replica. A reader too slow to keep up is cut off and catches up by the "
            f"same replay. A stream ends at its token's `exp` with `{TOKEN_EXPIRED}`."
        ),
        "servers": [{"$ref": "#/servers/notifier"}],
        "messages": message_refs(FRAMES),
    }


def query() -> dict[str, Any]:
    """The query parameters of `GET /v1/stream`."""
    return {
        "type": "object",
        "properties": {
            "channels": {
                "type": "string",
                "description": "More channels to read, comma-separated (or repeated): "
                "`private-department-<name>`, `private-allocation-<id>`; at most 20.",
            },
            "ticket": {
                "type": "string",
                "maxLength": 128,
                "description": "A single-use ticket from `POST /v1/stream-tickets`, where "
                "the client cannot send an Authorization header or the session cookie.",
            },
            "channel_auth": {
                "type": "string",
                "maxLength": 4000,
                "description": "Pusher-style `key:signature` per requested channel, "
                "comma-separated, signed over the ticket (`POST /v1/channel-auth`).",
            },
            "last_event_id": {
                "type": "string",
                "pattern": "^[0-9]{1,19}$",
                "description": "Replay after this id, where the client cannot send the "
                "Last-Event-ID header.",
            },
        },
    }
