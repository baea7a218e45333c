"""Events triggered through the Pusher HTTP API: Pusher's checks and limits, then where each goes.

An event on `private-employee-<id>` is a notification: it becomes a push request, so the
inserter writes an inbox row and the employee gets it even when offline (replay). Every
other channel is live only, as on Pusher: one broadcast record that every replica reads
(docs/decisions/0059).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final
from uuid import uuid4

from herald_channels.domain import protocol
from herald_common.auth.channels import CHANNEL_PATTERN, MAX_CHANNEL_LENGTH
from herald_common.events import NOTIFICATION_PUSHED, NotificationRequested, PushTarget

# Pusher's limits (HTTP API reference): 10 KB of data, 100 channels an event, 10 events a batch.
MAX_DATA_BYTES: Final = 10 * 1024
MAX_CHANNELS: Final = 100
MAX_BATCH: Final = 10
MAX_EVENT_NAME: Final = 200
EMPLOYEE_PREFIX: Final = "private-employee-"
# The channel `pusher.send_to_user` triggers on; the part after it is a user id.
SERVER_TO_USER_PREFIX: Final = "#server-to-user-"
_EMPLOYEE_ID: Final = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_RESERVED_EVENT_PREFIXES: Final = ("pusher:", "pusher_internal:")
INFO_ATTRIBUTES: Final = frozenset({"subscription_count", "user_count"})


class TriggerRefused(ValueError):
    """A request Pusher would refuse: `status` (400 or 413) and its plain-text message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True, slots=True)
class Trigger:
    """One event for `channels`, as the HTTP API accepted it."""

    event: str
    channels: tuple[str, ...]
    data: str
    socket_id: str | None = None
    info: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Routes:
    """Where a trigger goes: the employees notified durably, and the live channels."""

    employee_ids: tuple[str, ...]
    live_channels: tuple[str, ...]


def parse_body(raw: bytes) -> dict[str, Any]:
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError):
        raise TriggerRefused(400, "Request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise TriggerRefused(400, "Request body must be a JSON object")
    return body


def parse_info(value: object) -> frozenset[str]:
    """The `info` attributes asked for (comma-separated); unknown ones are refused."""
    if value is None:
        return frozenset()
    if not isinstance(value, str):
        raise TriggerRefused(400, "info must be a comma-separated string of attributes")
    asked = frozenset(part for part in value.split(",") if part)
    unknown = sorted(asked - INFO_ATTRIBUTES)
    if unknown:
        raise TriggerRefused(400, f"Unknown info attribute(s): {', '.join(unknown)}")
    return asked


def valid_channel(name: object) -> str:
    if not isinstance(name, str) or not name:
        raise TriggerRefused(400, "Channel names must be non-empty strings")
    if len(name) > MAX_CHANNEL_LENGTH:
        raise TriggerRefused(400, f"Channel name too long (max {MAX_CHANNEL_LENGTH}): {name}")
    user = name.startswith(SERVER_TO_USER_PREFIX)
    plain = name[len(SERVER_TO_USER_PREFIX) :] if user else name
    if not CHANNEL_PATTERN.fullmatch(plain):
        raise TriggerRefused(400, f"Invalid channel name: {name}")
    return name


def _event(body: dict[str, Any], channels: list[object]) -> Trigger:
    name = body.get("name")
    if not isinstance(name, str) or not name:
        raise TriggerRefused(400, "Missing parameter: name")
    if len(name) > MAX_EVENT_NAME:
        raise TriggerRefused(400, f"Event name too long (max {MAX_EVENT_NAME} characters)")
    if name.startswith(_RESERVED_EVENT_PREFIXES):
        raise TriggerRefused(400, f"Event names starting pusher: are reserved: {name}")
    data = body.get("data")
    if not isinstance(data, str):
        raise TriggerRefused(400, "Missing parameter: data (a string)")
    size = len(data.encode())
    if size > MAX_DATA_BYTES:
        raise TriggerRefused(
            413, f"Payload too large: event data is {size} bytes, the limit is 10KB"
        )
    if not channels:
        raise TriggerRefused(400, "Missing parameter: channels (or channel)")
    if len(channels) > MAX_CHANNELS:
        raise TriggerRefused(
            400, f"Too many channels: {len(channels)} given, an event goes to at most 100"
        )
    socket_id = body.get("socket_id")
    if socket_id is not None and (
        not isinstance(socket_id, str) or not re.fullmatch(r"\d+\.\d+", socket_id)
    ):
        raise TriggerRefused(400, f"Invalid socket_id: {socket_id}")
    valid = tuple(dict.fromkeys(valid_channel(channel) for channel in channels))
    encrypted = [channel for channel in valid if channel.startswith("private-encrypted-")]
    if encrypted and len(valid) > 1:
        raise TriggerRefused(400, "An event for an encrypted channel goes to that channel alone")
    return Trigger(name, valid, data, socket_id, parse_info(body.get("info")))


def parse_event(body: dict[str, Any]) -> Trigger:
    """The body of POST /apps/{app_id}/events: `channels` (a list) or `channel`."""
    channels = body.get("channels")
    if channels is None and "channel" in body:
        channels = [body["channel"]]
    if channels is not None and not isinstance(channels, list):
        raise TriggerRefused(400, "channels must be a list of channel names")
    return _event(body, channels or [])


def parse_batch(body: dict[str, Any]) -> list[Trigger]:
    """The body of POST /apps/{app_id}/batch_events: `batch`, each event on one `channel`."""
    batch = body.get("batch")
    if not isinstance(batch, list) or not batch:
        raise TriggerRefused(400, "Missing parameter: batch (a list of events)")
    if len(batch) > MAX_BATCH:
        raise TriggerRefused(400, f"Batch too large: {len(batch)} events, the limit is 10")
    triggers = []
    for index, event in enumerate(batch):
        if not isinstance(event, dict):
            raise TriggerRefused(400, f"batch[{index}] must be an object")
        if not isinstance(event.get("channel"), str):
            raise TriggerRefused(400, f"batch[{index}]: missing parameter: channel")
        try:
            triggers.append(_event(event, [event["channel"]]))
        except TriggerRefused as exc:
            raise TriggerRefused(exc.status, f"batch[{index}]: {exc}") from None
    return triggers


def route(trigger: Trigger) -> Routes:
    """Splits the channels: employee channels are notifications, the rest live only."""
    employees: list[str] = []
    live: list[str] = []
    for channel in trigger.channels:
        employee_id = channel.removeprefix(EMPLOYEE_PREFIX)
        if employee_id != channel and _EMPLOYEE_ID.fullmatch(employee_id):
            employees.append(employee_id)
        else:
            live.append(channel)
    return Routes(tuple(employees), tuple(live))


def as_triggered(event_type: str, value: bytes) -> tuple[str, str] | None:
    """The Pusher event a notification was triggered as (name, data), or None for any
    other notification: what a socket on the employee's channel gets, live and on replay,
    so the app's `bind(name)` sees the data it triggered."""
    if event_type != NOTIFICATION_PUSHED or b'"pusher"' not in value:
        return None
    try:
        pushed = json.loads(value)["data"]["data"]["pusher"]
        event, data = pushed["event"], pushed["data"]
    except (ValueError, KeyError, TypeError, RecursionError):
        return None
    if not isinstance(event, str) or not isinstance(data, str):
        return None
    return event, data


def notification_message(kind: str, value: bytes, channel: str) -> str:
    """A notification as a socket on `channel` gets it: as the Pusher event it was triggered
    as, or else as Herald's event (its type, the CloudEvent as data)."""
    triggered = as_triggered(kind, value)
    if triggered is not None:
        return protocol.message(triggered[0], triggered[1], channel)
    return protocol.message(kind, value.decode(), channel)


def notification_request(
    trigger: Trigger, employee_ids: tuple[str, ...], *, app_id: str, now: datetime
) -> NotificationRequested:
    """The push that makes the event a notification for each employee: titled by the event
    name, and carrying the event (name, data, excluded socket) for delivery as Pusher's."""
    pusher: dict[str, Any] = {"event": trigger.event, "data": trigger.data}
    if trigger.socket_id is not None:
        pusher["exclude_socket_id"] = trigger.socket_id
    return NotificationRequested(
        push_id=uuid4(),
        requested_by=f"pusher-app:{app_id}"[:64],
        title=trigger.event,
        data={"pusher": pusher},
        target=PushTarget(employee_ids=list(employee_ids)),
        requested_at=now,
    )
