"""The AsyncAPI 3.0 document of Herald's Kafka topics and SSE stream.

Message schemas are generated from the event models and partition counts from the topic
settings, so the document cannot drift from the code unnoticed: `python -m
herald_common.asyncapi` rewrites docs/asyncapi.yaml (PyYAML, a development dependency,
writes it), and a test fails when the committed file differs from `document()`.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from herald_common.catalogue import (
    ALLOCATION_COMPLETED_TOPIC,
    DEAD_LETTER_PARTITIONS,
    TOPICS,
    Key,
    Topic,
)
from herald_common.events import (
    ALLOCATION_COMPLETED,
    ALLOCATION_DELIVERED,
    ALLOCATION_PROGRESS,
    ALLOCATION_REQUESTED,
    ALLOCATION_SUMMARY,
    CONTENT_TYPE,
    NOTIFICATION_PUSHED,
    NOTIFICATION_REQUESTED,
    SOURCE_ALLOCATION,
    SOURCE_INSERTER,
    SOURCE_MAILER,
    SOURCE_NOTIFIER,
    SOURCE_PUSH,
    VOUCHER_ALLOCATED,
    AllocationCompleted,
    AllocationDelivered,
    AllocationProgress,
    AllocationRequested,
    CloudEvent,
    Criteria,
    IssuedVoucher,
    NotificationPushed,
    NotificationRequested,
    PushTarget,
    VoucherAllocated,
    VoucherSpec,
    envelope,
)
from herald_common.notifications import PREVIOUS_ID_HEADER
from herald_common.routing import ALLOCATION_ID_HEADER, EMPLOYEE_ID_HEADER, NOTIFICATION_ID_HEADER
from herald_common.settings import TopicSettings

VERSION = "0.1.0"
KAFKA_BINDING = "0.5.0"
HTTP_BINDING = "0.3.0"
REF = "#/components/schemas/{model}"
DEAD_LETTER_HEADERS = {
    "reason": "Why the record was rejected: a validation message or `ErrorType: message`.",
    "error-type": "`Rejected` for invalid input, else the exception's type.",
    "original-topic": "The topic the record was read from.",
    "original-partition": "Its partition (decimal).",
    "original-offset": "Its offset (decimal).",
    "failed-at": "When it was dead-lettered (ISO 8601, UTC).",
}
DEAD_LETTER_HEADER_PREFIX = "herald.dlq."
# Added by the mailer to a completion it dead-letters for one manager's summary email.
MAILER_MANAGER_HEADER = "herald.mailer.manager-id"
# SSE event names of the stream's control frames (not CloudEvents, never in the inbox).
UNREAD_COUNT_EVENT = "unread-count"
RESET_EVENT = "reset"
INSERTER_GROUP = "herald-inserter"
MAILER_GROUP = "herald-mailer"

_EXAMPLE_ALLOCATION = UUID("0b9f4a3e-6f5d-4c1e-9a51-2d8f3c7e4b10")
_EXAMPLE_PUSH = UUID("5f0c2b8e-1d7a-4e3b-8c6f-9a2e4d1b7c30")
_EXAMPLE_TIME = datetime(2030, 1, 15, 9, 30, tzinfo=UTC)


# --- Payloads that no consumer parses with a model of its own --------------------------
# The mailer builds its summary's data as a dict and the notifier its control frames as
# JSON text; these models describe them for the document, and tests/deploy checks the
# services' own output against the generated schemas.


class SummaryTotals(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    team_recipients: int = Field(ge=0, description="Members of the manager's team who received it.")
    allocation_recipients: int = Field(ge=0, description="Everyone who received it.")
    amount_each: str = Field(pattern=r"^[0-9]+\.[0-9]{2}$")
    amount_total: str = Field(pattern=r"^[0-9]+\.[0-9]{2}$")
    currency: str = Field(pattern=r"^[A-Z]{3}$")


class AllocationSummary(BaseModel):
    """Data of `herald.allocation.summary`: one manager's summary of an allocation."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    allocation_id: UUID
    employee_id: str = Field(description="The manager.")
    department: str = Field(description="The manager's department.")
    title: str
    body: str
    link: str = Field(description="The allocation, relative to the API.")
    totals: SummaryTotals


class UnreadCount(BaseModel):
    """`data:` of an `unread-count` frame: the employee's unread notifications, now."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    unread: int = Field(ge=0)


class StreamReset(BaseModel):
    """`data:` of a `reset` frame: too much was missed to replay; reload the inbox."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    reason: str
    limit: int = Field(ge=1, description="The replay limit (HERALD_NOTIFIER_REPLAY_LIMIT).")
    inbox: str = Field(description="Where to reload the inbox from (REST).")


# --- Topics and messages ----------------------------------------------------------------


_KEYS: dict[Key, dict[str, Any]] = {
    Key.ALLOCATION: {"type": "string", "format": "uuid", "description": "The allocation id."},
    Key.PUSH: {"type": "string", "format": "uuid", "description": "The push id."},
    Key.DEPARTMENT: {
        "type": "string",
        "description": "The employee's department: all of a department's events share a "
        "partition. Order by id, not by offset: after a crash, or with several workers, a "
        "partition may carry an employee's ids out of order, or one twice.",
    },
}
# Messages of each topic's dead-letter topic: the mailer also dead-letters the summary
# emails it gave up on with the completion they were for.
_DEAD_LETTERS = {ALLOCATION_COMPLETED_TOPIC: ("DeadLetter", "SummaryEmailDeadLetter")}


def _message_name(kind: str) -> str:
    """`herald.allocation.progress` is documented as AllocationProgress."""
    return "".join(word.capitalize() for word in kind.removeprefix("herald.").split("."))


def _channel_name(topic: Topic) -> str:
    return _lower_first(_message_name(topic.name))


def _partitions_variable(topic: Topic) -> str:
    return f"{TopicSettings.model_config.get('env_prefix', '')}{topic.setting}".upper()


@dataclass(frozen=True, slots=True)
class _Message:
    event_type: str
    title: str
    description: str


MESSAGES = {
    "AllocationRequested": _Message(
        ALLOCATION_REQUESTED,
        "An allocation request",
        "Asks Herald to issue a voucher to every employee matching the criteria. Written by "
        "`POST /v1/allocations`, or directly by any producer. The CloudEvents `id` and the "
        "record key are the allocation id; writing the same id twice allocates once. The "
        "rules are the API's: the criteria must name an audience (`{}` is refused; "
        "`all_employees: true`, alone, targets everyone), and every named department must "
        "have employees. A record that breaks them, or does not validate, goes to the "
        "dead-letter topic with the reason in its `herald.dlq.reason` header and is never "
        "carried out. A request whose rule matches nobody when it runs ends as `failed` "
        "(completion event with `status: failed` and the reason), never as completed with 0 "
        "recipients. Unlike the API, the topic asks for no typed recipient count: a "
        "producing system is its own review.",
    ),
    "VoucherAllocated": _Message(
        VOUCHER_ALLOCATED,
        "A voucher issued to one employee",
        "One event per employee. `id` is the notification id: the same event replayed from "
        "the inbox carries the same id, so consumers drop duplicates by id. `subject` is "
        "the employee id.",
    ),
    "AllocationProgress": _Message(
        ALLOCATION_PROGRESS,
        "Progress of an allocation",
        "Sent by the inserter after each phase (`inserted`, then `published`) with the "
        "counts so far, on the completion's topic and key, so it precedes the completion in "
        "its partition. Sent without waiting for Kafka's acknowledgement: it informs "
        "watchers and may be missing. `id` is `<allocation id>:progress:<phase>`.",
    ),
    "AllocationCompleted": _Message(
        ALLOCATION_COMPLETED,
        "The outcome of an allocation",
        "Sent once an allocation completed or failed, with its counts. `id` is "
        "`<allocation id>:<status>`. Consumers of this topic tell it from progress events "
        "by the CloudEvents `type`.",
    ),
    "NotificationRequested": _Message(
        NOTIFICATION_REQUESTED,
        "A request to notify employees",
        "A generic push from another system: a title, a body, free-form `data`, and a "
        "`target` of `employee_ids` (up to 10,000), a `department` or `criteria`. Written "
        "by `POST /v1/notifications`, or directly by any producer. The CloudEvents `id` "
        "and the record key are the push id. The inserter resolves the target and writes "
        "one inbox notification and one `herald.notification.pushed` event per employee.",
    ),
    "NotificationPushed": _Message(
        NOTIFICATION_PUSHED,
        "A generic notification to one employee",
        "One event per recipient of a push, keyed and identified like voucher events "
        "(`id` is the notification id, `subject` the employee id).",
    ),
    "AllocationSummary": _Message(
        ALLOCATION_SUMMARY,
        "A manager's summary of an allocation",
        "Written by the mailer once an allocation completed: one per manager of a "
        "recipient, covering the recipients in the manager's team (voucher codes are never "
        "included). A per-employee event like the others (`id` is the notification id, "
        "`subject` the manager's employee id); the same summary is also emailed.",
    ),
}

# The structured-mode envelope of each event, under the name used in the document.
ENVELOPES: dict[str, type[BaseModel]] = {
    "AllocationRequestedEvent": CloudEvent[AllocationRequested],
    "VoucherAllocatedEvent": CloudEvent[VoucherAllocated],
    "AllocationProgressEvent": CloudEvent[AllocationProgress],
    "AllocationCompletedEvent": CloudEvent[AllocationCompleted],
    "NotificationRequestedEvent": CloudEvent[NotificationRequested],
    "NotificationPushedEvent": CloudEvent[NotificationPushed],
    "AllocationSummaryEvent": CloudEvent[AllocationSummary],
    "AllocationDeliveredEvent": CloudEvent[AllocationDelivered],
}
# Data of the stream's control frames.
FRAME_DATA: dict[str, type[BaseModel]] = {
    "UnreadCount": UnreadCount,
    "StreamReset": StreamReset,
}


def schemas() -> dict[str, Any]:
    """JSON Schemas of the envelopes and everything they refer to, keyed by name."""
    result: dict[str, Any] = {}
    for name, model in {**ENVELOPES, **FRAME_DATA}.items():
        schema = model.model_json_schema(ref_template=REF)
        result.update(schema.pop("$defs", {}))
        schema["title"] = name
        result[name] = schema
    return dict(sorted(result.items()))


def examples() -> dict[str, dict[str, Any]]:
    """One valid event per message, built the way the services build them."""
    voucher = VoucherSpec(
        name="Winter bonus",
        amount=Decimal("50.00"),
        currency="EUR",
        expires_on=date(2030, 1, 31),
        code_prefix="WIN",
    )
    requested = AllocationRequested(
        allocation_id=_EXAMPLE_ALLOCATION,
        voucher=voucher,
        criteria=Criteria(departments=["Sales"], min_years_experience=2),
        requested_at=_EXAMPLE_TIME,
    )
    allocated = VoucherAllocated(
        allocation_id=_EXAMPLE_ALLOCATION,
        employee_id="E000042",
        department="Sales",
        title="You received a voucher: Winter bonus",
        body="50.00 EUR, valid until 2030-01-31.",
        voucher=IssuedVoucher(
            name="Winter bonus",
            code="WIN-7KQ2-M4XD",
            amount=Decimal("50.00"),
            currency="EUR",
            expires_on=date(2030, 1, 31),
        ),
    )
    progress = AllocationProgress(
        allocation_id=_EXAMPLE_ALLOCATION, phase="inserted", matched=1, inserted=1, published=0
    )
    completed = AllocationCompleted(
        allocation_id=_EXAMPLE_ALLOCATION, status="completed", matched=1, inserted=1, published=1
    )
    push = NotificationRequested(
        push_id=_EXAMPLE_PUSH,
        requested_by="facilities",
        title="Office closed on Friday",
        body="The Berlin office is closed on 17 January.",
        data={"office": "Berlin"},
        target=PushTarget(department="Sales"),
        requested_at=_EXAMPLE_TIME,
    )
    pushed = NotificationPushed(
        push_id=_EXAMPLE_PUSH,
        employee_id="E000042",
        department="Sales",
        title="Office closed on Friday",
        body="The Berlin office is closed on 17 January.",
        data={"office": "Berlin"},
    )
    summary = AllocationSummary(
        allocation_id=_EXAMPLE_ALLOCATION,
        employee_id="E000007",
        department="Sales",
        title="Winter bonus: 1 person in your team received it",
        body="1 person in your team received 50.00 EUR each, 50.00 EUR in total.",
        link=f"/v1/allocations/{_EXAMPLE_ALLOCATION}",
        totals=SummaryTotals(
            team_recipients=1,
            allocation_recipients=1,
            amount_each="50.00",
            amount_total="50.00",
            currency="EUR",
        ),
    )
    delivered = AllocationDelivered(
        allocation_id=_EXAMPLE_ALLOCATION, delivered=1, replica="herald-notifier-7c9d5-x2k4q"
    )
    allocation = str(_EXAMPLE_ALLOCATION)
    return {
        "AllocationRequested": envelope(
            event_id=allocation,
            source=SOURCE_ALLOCATION,
            event_type=ALLOCATION_REQUESTED,
            subject=allocation,
            time=_EXAMPLE_TIME,
            data=requested,
        ),
        "VoucherAllocated": envelope(
            event_id="2001",
            source=SOURCE_INSERTER,
            event_type=VOUCHER_ALLOCATED,
            subject="E000042",
            time=_EXAMPLE_TIME,
            data=allocated,
        ),
        "AllocationProgress": envelope(
            event_id=f"{allocation}:progress:inserted",
            source=SOURCE_INSERTER,
            event_type=ALLOCATION_PROGRESS,
            subject=allocation,
            time=_EXAMPLE_TIME,
            data=progress,
        ),
        "AllocationCompleted": envelope(
            event_id=f"{allocation}:completed",
            source=SOURCE_INSERTER,
            event_type=ALLOCATION_COMPLETED,
            subject=allocation,
            time=_EXAMPLE_TIME,
            data=completed,
        ),
        "NotificationRequested": envelope(
            event_id=str(_EXAMPLE_PUSH),
            source=SOURCE_PUSH,
            event_type=NOTIFICATION_REQUESTED,
            subject=str(_EXAMPLE_PUSH),
            time=_EXAMPLE_TIME,
            data=push,
        ),
        "NotificationPushed": envelope(
            event_id="2002",
            source=SOURCE_PUSH,
            event_type=NOTIFICATION_PUSHED,
            subject="E000042",
            time=_EXAMPLE_TIME,
            data=pushed,
        ),
        "AllocationSummary": envelope(
            event_id="2003",
            source=SOURCE_MAILER,
            event_type=ALLOCATION_SUMMARY,
            subject="E000007",
            time=_EXAMPLE_TIME,
            data=summary,
        ),
        "AllocationDelivered": envelope(
            event_id=f"{allocation}:delivered:herald-notifier-7c9d5-x2k4q:1",
            source=SOURCE_NOTIFIER,
            event_type=ALLOCATION_DELIVERED,
            subject=allocation,
            time=_EXAMPLE_TIME,
            data=delivered,
        ),
    }


def _kafka_headers(per_employee: bool) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "content-type": {
            "type": "string",
            "const": CONTENT_TYPE,
            "description": "CloudEvents structured mode: the whole event is the value.",
        }
    }
    if per_employee:
        properties[PREVIOUS_ID_HEADER] = {
            "type": "string",
            "pattern": "^[0-9]{1,19}$",
            "description": "The id of the same employee's previous notification (0: none), "
            "set by Herald's inserter. A reader that has seen that id can be missing none of "
            "the employee's earlier ones. Absent from other writers' events.",
        }
        properties[NOTIFICATION_ID_HEADER] = {
            "type": "string",
            "pattern": "^[0-9]{1,19}$",
            "description": "Routing header set by Herald's inserter: the event's `id`. With "
            f"{EMPLOYEE_ID_HEADER} and the key (the department), a notifier routes the event "
            "without parsing the value. Events without routing headers are parsed in full.",
        }
        properties[EMPLOYEE_ID_HEADER] = {
            "type": "string",
            "minLength": 1,
            "description": "Routing header set by Herald's inserter: the employee "
            f"(`data.employee_id`). Comes with {NOTIFICATION_ID_HEADER}.",
        }
        properties[ALLOCATION_ID_HEADER] = {
            "type": "string",
            "format": "uuid",
            "description": "Routing header on voucher events from Herald's inserter: "
            "`data.allocation_id`, for the allocation's live delivered count.",
        }
    return {"type": "object", "required": ["content-type"], "properties": properties}


def _dead_letter_headers(**extra: str) -> dict[str, Any]:
    properties = {
        f"{DEAD_LETTER_HEADER_PREFIX}{name}": {"type": "string", "description": text}
        for name, text in DEAD_LETTER_HEADERS.items()
    }
    properties |= {name: {"type": "string", "description": text} for name, text in extra.items()}
    return {
        "type": "object",
        "description": "The original record's headers, plus these.",
        "required": sorted(properties),
        "properties": properties,
    }


def _lower_first(name: str) -> str:
    return f"{name[0].lower()}{name[1:]}"


def _frame(name: str, title: str, summary: str, payload: str) -> dict[str, Any]:
    return {
        "name": name,
        "title": title,
        "summary": summary,
        "contentType": "application/json",
        "payload": {"$ref": REF.format(model=payload)},
    }


# Frames of the stream: per-employee events (with `id:`), then frames without an id.
_INBOX_FRAMES = ("VoucherAllocated", "NotificationPushed", "AllocationSummary")
_WATCHER_FRAMES = ("AllocationProgress", "AllocationCompleted", "AllocationDelivered")


def _frames() -> dict[str, Any]:
    frames: dict[str, Any] = {}
    for message in _INBOX_FRAMES:
        event_type = MESSAGES[message].event_type
        frames[f"{message}Frame"] = _frame(
            f"{message}Frame",
            f"{MESSAGES[message].title} (stream)",
            f"`event: {event_type}`, `id:` the notification id (it moves Last-Event-ID and "
            "is replayed from the inbox), `data:` the event as JSON.",
            f"{message}Event",
        )
    for message in _WATCHER_FRAMES:
        event_type = (
            ALLOCATION_DELIVERED
            if message == "AllocationDelivered"
            else MESSAGES[message].event_type
        )
        frames[f"{message}Frame"] = _frame(
            f"{message}Frame",
            f"{event_type} for an allocation's watchers (stream)",
            f"`event: {event_type}` on `private-allocation-<id>` (hr-admin): no `id:`, never "
            "replayed; after a reconnect read the allocation over REST.",
            f"{message}Event",
        )
    frames["AllocationDeliveredFrame"]["description"] = (
        "Sent by each notifier replica at most every "
        "HERALD_NOTIFIER_DELIVERED_INTERVAL_SECONDS while the allocation's vouchers reach "
        "open streams, and once to a watcher that connects: how many employees that replica "
        "reached live. Counts are per replica (named in `data.replica`)."
    )
    frames["UnreadCountFrame"] = _frame(
        "UnreadCountFrame",
        "The unread count (stream)",
        f"`event: {UNREAD_COUNT_EVENT}`, no `id:`: sent once the replay is done and after "
        "every change of the count (new notifications, read marks from any device).",
        "UnreadCount",
    )
    frames["ResetFrame"] = _frame(
        "ResetFrame",
        "Too much missed to replay (stream)",
        f"`event: {RESET_EVENT}`, `id:` the newest notification id: sent instead of the "
        "replay when a reconnect missed more than the replay limit. Reload the inbox over "
        "REST; the stream continues live from that id.",
        "StreamReset",
    )
    return frames


def _messages() -> dict[str, Any]:
    messages: dict[str, Any] = {}
    samples = examples()
    for name, message in MESSAGES.items():
        key = _topic_of(name).key
        messages[name] = {
            "name": name,
            "title": message.title,
            "summary": message.title,
            "description": message.description,
            "contentType": CONTENT_TYPE,
            "headers": _kafka_headers(per_employee=key is Key.DEPARTMENT),
            "payload": {"$ref": REF.format(model=f"{name}Event")},
            "bindings": {"kafka": {"key": _KEYS[key], "bindingVersion": KAFKA_BINDING}},
            "examples": [
                {
                    "name": _lower_first(name),
                    "headers": {"content-type": CONTENT_TYPE},
                    "payload": samples[name],
                }
            ],
        }
    messages["DeadLetter"] = {
        "name": "DeadLetter",
        "title": "A record that could not be processed",
        "summary": "The original key, value and headers, untouched, with the reason.",
        "description": "Written instead of stopping the consumer. The value is the original "
        "bytes, which may not be JSON at all; replay it to the original topic once fixed.",
        "headers": _dead_letter_headers(),
        "payload": {"description": "The original record's value, byte for byte."},
    }
    messages["SummaryEmailDeadLetter"] = {
        "name": "SummaryEmailDeadLetter",
        "title": "A manager's summary email that was not sent",
        "summary": "The completion record, with the reason and the manager it was for.",
        "description": "Written by the mailer when a summary email failed for good or its "
        "outcome is unknown (the connection was lost while the message was being sent); "
        "such an email is never sent again by itself, so a manager never gets it twice. "
        "Replaying the record to the original topic tries emails that certainly failed "
        "again; the other managers' emails are unaffected.",
        "headers": _dead_letter_headers(
            **{MAILER_MANAGER_HEADER: "The employee id of the manager the email was for."}
        ),
        "payload": {"description": "The completion record's value, byte for byte."},
    }
    return messages | _frames()


def _topic_of(message: str) -> Topic:
    (topic,) = [t for t in TOPICS if message in map(_message_name, t.kinds)]
    return topic


def _kafka_channels() -> dict[str, Any]:
    channels: dict[str, Any] = {}
    for topic in TOPICS:
        channel = _channel_name(topic)
        messages = tuple(map(_message_name, topic.kinds))
        channels[channel] = {
            "address": topic.name,
            "title": topic.name,
            "description": f"Partitions: {topic.partitions} by default "
            f"({_partitions_variable(topic)}). Record key described on the message.",
            "servers": [{"$ref": "#/servers/kafka"}],
            "messages": {m: {"$ref": f"#/components/messages/{m}"} for m in messages},
            "bindings": {
                "kafka": {
                    "topic": topic.name,
                    "partitions": topic.partitions,
                    "bindingVersion": KAFKA_BINDING,
                }
            },
        }
        dead_letters = _DEAD_LETTERS.get(topic, ("DeadLetter",))
        channels[f"{channel}DeadLetters"] = {
            "address": topic.dead_letter,
            "title": topic.dead_letter,
            "description": f"Records of {topic.name} that could not be processed.",
            "servers": [{"$ref": "#/servers/kafka"}],
            "messages": {m: {"$ref": f"#/components/messages/{m}"} for m in dead_letters},
            "bindings": {
                "kafka": {
                    "topic": topic.dead_letter,
                    "partitions": DEAD_LETTER_PARTITIONS,
                    "bindingVersion": KAFKA_BINDING,
                }
            },
        }
    return channels


def _stream_frames() -> tuple[str, ...]:
    return (
        *(f"{m}Frame" for m in (*_INBOX_FRAMES, *_WATCHER_FRAMES)),
        "UnreadCountFrame",
        "ResetFrame",
    )


def _stream_channel() -> dict[str, Any]:
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
            "`reset` instead. Frames without `id:` (unread counts, an allocation's progress) "
            "are live only. When a server shuts down, every stream ends with "
            "`: server shutting down; reconnect` and a `retry:`; clients reconnect to "
            "another replica. A reader too slow to keep up is cut off and catches up by the "
            "same replay."
        ),
        "servers": [{"$ref": "#/servers/notifier"}],
        "messages": {m: {"$ref": f"#/components/messages/{m}"} for m in _stream_frames()},
    }


def _operation(
    action: str, channel: str, messages: tuple[str, ...], summary: str, **bindings: Any
) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "action": action,
        "channel": {"$ref": f"#/channels/{channel}"},
        "summary": summary,
        "messages": [{"$ref": f"#/channels/{channel}/messages/{m}"} for m in messages],
    }
    if bindings:
        operation["bindings"] = bindings
    return operation


def _group(name: str, setting: str) -> dict[str, Any]:
    return {
        "groupId": {"type": "string", "const": name, "description": setting},
        "bindingVersion": KAFKA_BINDING,
    }


def _stream_query() -> dict[str, Any]:
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


def _operations() -> dict[str, Any]:
    inserter = _group(INSERTER_GROUP, "HERALD_INSERTER_APP_ID")
    mailer = _group(MAILER_GROUP, "HERALD_MAILER_APP_ID")
    return {
        "sendAllocationRequest": _operation(
            "send",
            "allocationRequested",
            ("AllocationRequested",),
            "The allocation API (and any external producer) requests an allocation.",
        ),
        "receiveAllocationRequest": _operation(
            "receive",
            "allocationRequested",
            ("AllocationRequested",),
            "The inserter writes the vouchers and the inbox, then publishes the events.",
            kafka=inserter,
        ),
        "sendVoucherAllocated": _operation(
            "send", "voucherAllocated", ("VoucherAllocated",), "The inserter, one per employee."
        ),
        "receiveVoucherAllocated": _operation(
            "receive",
            "voucherAllocated",
            ("VoucherAllocated",),
            "Every notifier replica reads every partition (read_committed, no consumer "
            "group) and hands each event to the employee's open streams.",
        ),
        "sendAllocationProgress": _operation(
            "send",
            "allocationCompleted",
            ("AllocationProgress",),
            "The inserter, after each phase of an allocation.",
        ),
        "sendAllocationCompleted": _operation(
            "send",
            "allocationCompleted",
            ("AllocationCompleted",),
            "The inserter, once per allocation.",
        ),
        "receiveAllocationProgress": _operation(
            "receive",
            "allocationCompleted",
            ("AllocationProgress", "AllocationCompleted"),
            "Every notifier replica reads every partition (no consumer group) and forwards "
            "progress and completions to the allocation's watchers.",
        ),
        "receiveAllocationCompleted": _operation(
            "receive",
            "allocationCompleted",
            ("AllocationCompleted",),
            "The mailer, in its consumer group, writes each manager's summary (in-app and "
            "by email) once an allocation completed; it passes over progress events.",
            kafka=mailer,
        ),
        "sendNotificationRequest": _operation(
            "send",
            "notificationRequested",
            ("NotificationRequested",),
            "The allocation API (`POST /v1/notifications`) and any external producer ask "
            "to notify employees.",
        ),
        "receiveNotificationRequest": _operation(
            "receive",
            "notificationRequested",
            ("NotificationRequested",),
            "The inserter resolves the target, writes the inbox, then publishes the events.",
            kafka=inserter,
        ),
        "sendNotificationPushed": _operation(
            "send",
            "notificationPushed",
            ("NotificationPushed",),
            "The inserter, one per recipient of a push.",
        ),
        "sendAllocationSummary": _operation(
            "send",
            "notificationPushed",
            ("AllocationSummary",),
            "The mailer, one per manager of an allocation's recipients.",
        ),
        "receiveNotificationPushed": _operation(
            "receive",
            "notificationPushed",
            ("NotificationPushed", "AllocationSummary"),
            "Every notifier replica reads every partition (no consumer group) and hands "
            "each event to the employee's open streams, whatever its type.",
        ),
        "sendAllocationRequestDeadLetter": _operation(
            "send",
            "allocationRequestedDeadLetters",
            ("DeadLetter",),
            "The inserter, for a request it cannot process.",
        ),
        "sendNotificationRequestDeadLetter": _operation(
            "send",
            "notificationRequestedDeadLetters",
            ("DeadLetter",),
            "The inserter, for a push request it cannot process.",
        ),
        "sendVoucherAllocatedDeadLetter": _operation(
            "send",
            "voucherAllocatedDeadLetters",
            ("DeadLetter",),
            "The notifier, for an event it cannot read.",
        ),
        "sendNotificationPushedDeadLetter": _operation(
            "send",
            "notificationPushedDeadLetters",
            ("DeadLetter",),
            "The notifier, for an event it cannot read.",
        ),
        "sendAllocationCompletedDeadLetter": _operation(
            "send",
            "allocationCompletedDeadLetters",
            ("DeadLetter", "SummaryEmailDeadLetter"),
            "The notifier and the mailer, for a record they cannot read; the mailer also "
            "for each summary email it gave up on.",
        ),
        "sendStream": _operation(
            "send",
            "stream",
            _stream_frames(),
            "The notifier streams an employee's events, live and replayed, with unread "
            "counts, and the progress of the allocations an hr-admin watches.",
            http={"method": "GET", "query": _stream_query(), "bindingVersion": HTTP_BINDING},
        ),
    }


def document() -> dict[str, Any]:
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Herald events",
            "version": VERSION,
            "description": (
                "Herald's public event contract: the Kafka topics (which other systems may "
                "read and, for `herald.allocation.requested` and "
                "`herald.notification.requested`, write) and the notification stream.\n\n"
                "Every Kafka record is a CloudEvents 1.0 event in structured mode: the value "
                "is the whole event as JSON and the header `content-type` is "
                f"`{CONTENT_TYPE}`. The CloudEvents `type` names the event; it is the "
                "topic's name except on topics that carry more than one kind "
                f"(`{ALLOCATION_PROGRESS}` on `{ALLOCATION_COMPLETED}`, "
                f"`{ALLOCATION_SUMMARY}` on `{NOTIFICATION_PUSHED}`), so consumers read the "
                "`type` before the data. Topic names may carry a deployment prefix "
                "(`HERALD_TOPICS_PREFIX`). Delivery is at least once: consumers drop "
                "duplicates by event id. Each topic has a `.dlq` topic for records that "
                "could not be processed.\n\n"
                "The schemas are generated from the event models in "
                "`libs/common/herald_common/events.py` (and, for the mailer's summary and "
                "the stream's control frames, from models in "
                "`libs/common/herald_common/asyncapi.py`) by "
                "`python -m herald_common.asyncapi`."
            ),
        },
        "defaultContentType": CONTENT_TYPE,
        "servers": {
            "kafka": {
                "host": "{bootstrap}",
                "protocol": "kafka",
                "description": "The Kafka cluster Herald is deployed with.",
                "variables": {
                    "bootstrap": {
                        "default": "localhost:9092",
                        "description": "A bootstrap broker (HERALD_KAFKA_BOOTSTRAP).",
                    }
                },
            },
            "notifier": {
                "host": "herald.example.com",
                "protocol": "https",
                "description": "The notifier, behind the deployment's ingress or gateway "
                "(one origin for the web console and every API).",
            },
        },
        "channels": {**_kafka_channels(), "stream": _stream_channel()},
        "operations": _operations(),
        "components": {"schemas": schemas(), "messages": _messages()},
    }


DOCUMENT_PATH = Path("docs") / "asyncapi.yaml"


def main() -> None:
    import yaml  # a development dependency: only generating the file needs it

    class Dumper(yaml.SafeDumper):
        pass

    def text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
        # Paragraphs as literal blocks: readable, and diffs show the changed sentence.
        style = "|" if "\n" in value else None
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)

    Dumper.add_representer(str, text)
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else DOCUMENT_PATH
    header = "# Generated by `python -m herald_common.asyncapi`; do not edit by hand.\n"
    body = yaml.dump(document(), Dumper=Dumper, sort_keys=False, allow_unicode=True, width=100)
    target.write_text(header + body, encoding="utf-8")


if __name__ == "__main__":
    main()
