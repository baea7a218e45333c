"""The AsyncAPI 3.0 document of Herald's Kafka topics and SSE stream.

Message schemas are generated from the event models and partition counts from the topic
settings, so the document cannot drift from the code unnoticed: `python -m
herald_common.asyncapi` rewrites docs/asyncapi.yaml (PyYAML, a development dependency,
writes it), and a test fails when the committed file differs from `document()`.
"""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

from pydantic import BaseModel

from herald_common.events import (
    ALLOCATION_COMPLETED,
    ALLOCATION_REQUESTED,
    CONTENT_TYPE,
    NOTIFICATION_PUSHED,
    SOURCE_ALLOCATION,
    SOURCE_INSERTER,
    VOUCHER_ALLOCATED,
    AllocationCompleted,
    AllocationRequested,
    CloudEvent,
    Criteria,
    IssuedVoucher,
    NotificationPushed,
    VoucherAllocated,
    VoucherSpec,
    envelope,
)
from herald_common.notifications import PREVIOUS_ID_HEADER
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

_EXAMPLE_ALLOCATION = UUID("0b9f4a3e-6f5d-4c1e-9a51-2d8f3c7e4b10")
_EXAMPLE_TIME = datetime(2030, 1, 15, 9, 30, tzinfo=UTC)


class _Topic:
    def __init__(
        self, *, channel: str, address: str, partitions: int, key: dict[str, Any], message: str
    ) -> None:
        self.channel = channel
        self.address = address
        self.partitions = partitions
        self.key = key
        self.message = message


def _partitions(field: str) -> int:
    # Defaults only: the document must not depend on the environment it is generated in.
    default = TopicSettings.model_fields[field].default
    assert isinstance(default, int)
    return default


_UUID_KEY = {"type": "string", "format": "uuid", "description": "The allocation id."}
_DEPARTMENT_KEY = {
    "type": "string",
    "description": "The employee's department: all of a department's events share a "
    "partition. Order by id, not by offset: after a crash, or with several workers, a "
    "partition may carry an employee's ids out of order, or one twice.",
}
TOPICS = (
    _Topic(
        channel="allocationRequested",
        address=ALLOCATION_REQUESTED,
        partitions=_partitions("allocation_requested_partitions"),
        key=_UUID_KEY,
        message="AllocationRequested",
    ),
    _Topic(
        channel="voucherAllocated",
        address=VOUCHER_ALLOCATED,
        partitions=_partitions("voucher_allocated_partitions"),
        key=_DEPARTMENT_KEY,
        message="VoucherAllocated",
    ),
    _Topic(
        channel="allocationCompleted",
        address=ALLOCATION_COMPLETED,
        partitions=_partitions("allocation_completed_partitions"),
        key=_UUID_KEY,
        message="AllocationCompleted",
    ),
    _Topic(
        channel="notificationPushed",
        address=NOTIFICATION_PUSHED,
        partitions=_partitions("notification_pushed_partitions"),
        key=_DEPARTMENT_KEY,
        message="NotificationPushed",
    ),
)

# The structured-mode envelope of each topic's events, under the name used in the document.
ENVELOPES: dict[str, type[BaseModel]] = {
    "AllocationRequestedEvent": CloudEvent[AllocationRequested],
    "VoucherAllocatedEvent": CloudEvent[VoucherAllocated],
    "AllocationCompletedEvent": CloudEvent[AllocationCompleted],
    "NotificationPushedEvent": CloudEvent[NotificationPushed],
}


def schemas() -> dict[str, Any]:
    """JSON Schemas of the envelopes and everything they refer to, keyed by name."""
    result: dict[str, Any] = {}
    for name, model in ENVELOPES.items():
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
    completed = AllocationCompleted(
        allocation_id=_EXAMPLE_ALLOCATION, status="completed", matched=1, inserted=1, published=1
    )
    pushed = NotificationPushed(
        push_id=UUID("5f0c2b8e-1d7a-4e3b-8c6f-9a2e4d1b7c30"),
        employee_id="E000042",
        department="Sales",
        title="Office closed on Friday",
        body="The Berlin office is closed on 17 January.",
        data={"office": "Berlin"},
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
        "AllocationCompleted": envelope(
            event_id=f"{allocation}:completed",
            source=SOURCE_INSERTER,
            event_type=ALLOCATION_COMPLETED,
            subject=allocation,
            time=_EXAMPLE_TIME,
            data=completed,
        ),
        "NotificationPushed": envelope(
            event_id="2002",
            source="/herald/allocation",
            event_type=NOTIFICATION_PUSHED,
            subject="E000042",
            time=_EXAMPLE_TIME,
            data=pushed,
        ),
    }


_MESSAGE_TEXT = {
    "AllocationRequested": (
        "An allocation request",
        "Asks Herald to issue a voucher to every employee matching the criteria. Written by "
        "`POST /v1/allocations`, or directly by any producer. The CloudEvents `id` and the "
        "record key are the allocation id; writing the same id twice allocates once. A "
        "record that does not validate goes to the dead-letter topic.",
    ),
    "VoucherAllocated": (
        "A voucher issued to one employee",
        "One event per employee. `id` is the notification id: the same event replayed from "
        "the inbox carries the same id, so consumers drop duplicates by id. `subject` is "
        "the employee id.",
    ),
    "AllocationCompleted": (
        "The outcome of an allocation",
        "Sent once an allocation completed or failed, with its counts. `id` is "
        "`<allocation id>:<status>`.",
    ),
    "NotificationPushed": (
        "A generic notification to one employee",
        "Reserved for generic pushes from other systems: one event per recipient, keyed and "
        "identified like voucher events (`id` is the notification id). The topic and its "
        "envelope are part of the contract; the push API that writes it is not released yet.",
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
            "written by Herald's inserter. A reader that has seen that id can be missing "
            "none of the employee's earlier ones.",
        }
    return {"type": "object", "required": ["content-type"], "properties": properties}


def _dead_letter_headers() -> dict[str, Any]:
    properties = {
        f"{DEAD_LETTER_HEADER_PREFIX}{name}": {"type": "string", "description": text}
        for name, text in DEAD_LETTER_HEADERS.items()
    }
    return {
        "type": "object",
        "description": "The original record's headers, plus these.",
        "required": sorted(properties),
        "properties": properties,
    }


def _messages() -> dict[str, Any]:
    messages: dict[str, Any] = {}
    samples = examples()
    for topic in TOPICS:
        title, description = _MESSAGE_TEXT[topic.message]
        messages[topic.message] = {
            "name": topic.message,
            "title": title,
            "summary": title,
            "description": description,
            "contentType": CONTENT_TYPE,
            "headers": _kafka_headers(per_employee=topic.key is _DEPARTMENT_KEY),
            "payload": {"$ref": REF.format(model=f"{topic.message}Event")},
            "bindings": {"kafka": {"key": topic.key, "bindingVersion": KAFKA_BINDING}},
            "examples": [
                {
                    "name": f"{topic.message[0].lower()}{topic.message[1:]}",
                    "headers": {"content-type": CONTENT_TYPE},
                    "payload": samples[topic.message],
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
    messages["VoucherAllocatedFrame"] = {
        "name": "VoucherAllocatedFrame",
        "title": "A voucher event on the stream",
        "summary": "One SSE frame: `id:` the notification id, `event:` the CloudEvents "
        "type, `data:` the event as JSON, `retry:` the reconnect delay in ms.",
        "contentType": "application/json",
        "payload": {"$ref": REF.format(model="VoucherAllocatedEvent")},
    }
    return messages


def _kafka_channels() -> dict[str, Any]:
    channels: dict[str, Any] = {}
    for topic in TOPICS:
        channels[topic.channel] = {
            "address": topic.address,
            "title": topic.address,
            "description": f"Partitions: {topic.partitions} by default "
            f"(HERALD_TOPICS_{topic.address.split('.', 1)[1].replace('.', '_').upper()}"
            "_PARTITIONS). Record key described on the message.",
            "servers": [{"$ref": "#/servers/kafka"}],
            "messages": {topic.message: {"$ref": f"#/components/messages/{topic.message}"}},
            "bindings": {
                "kafka": {
                    "topic": topic.address,
                    "partitions": topic.partitions,
                    "bindingVersion": KAFKA_BINDING,
                }
            },
        }
        dead_letter = TopicSettings.dead_letter(topic.address)
        channels[f"{topic.channel}DeadLetters"] = {
            "address": dead_letter,
            "title": dead_letter,
            "description": f"Records of {topic.address} that could not be processed.",
            "servers": [{"$ref": "#/servers/kafka"}],
            "messages": {"DeadLetter": {"$ref": "#/components/messages/DeadLetter"}},
            "bindings": {
                "kafka": {
                    "topic": dead_letter,
                    "partitions": _partitions("dead_letter_partitions"),
                    "bindingVersion": KAFKA_BINDING,
                }
            },
        }
    return channels


def _stream_channel() -> dict[str, Any]:
    return {
        "address": "/v1/stream",
        "title": "An employee's notification stream (Server-Sent Events)",
        "description": (
            "`GET /v1/stream` answers `text/event-stream`. Each event is a frame with `id:` "
            "(the notification id), `event:` (the CloudEvents type), `data:` (the event as "
            "JSON) and `retry:`. A comment (`: connected`) opens the stream and `: ping` "
            "comments keep it alive every 15 s. On reconnect the browser sends "
            "`Last-Event-ID` and the stream first replays everything after that id from the "
            "inbox, so nothing is missed and nothing repeats. When a server shuts down, every "
            "stream ends with `: server shutting down; reconnect` and a `retry:`; clients "
            "reconnect to another replica. A reader too slow to keep up is cut off and "
            "catches up by the same replay."
        ),
        "servers": [{"$ref": "#/servers/notifier"}],
        "messages": {
            "VoucherAllocatedFrame": {"$ref": "#/components/messages/VoucherAllocatedFrame"}
        },
    }


def _operation(
    action: str, channel: str, message: str, summary: str, **bindings: Any
) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "action": action,
        "channel": {"$ref": f"#/channels/{channel}"},
        "summary": summary,
        "messages": [{"$ref": f"#/channels/{channel}/messages/{message}"}],
    }
    if bindings:
        operation["bindings"] = bindings
    return operation


def _operations() -> dict[str, Any]:
    group = {"type": "string", "const": "herald-inserter", "description": "HERALD_INSERTER_APP_ID"}
    return {
        "sendAllocationRequest": _operation(
            "send",
            "allocationRequested",
            "AllocationRequested",
            "The allocation API (and any external producer) requests an allocation.",
        ),
        "receiveAllocationRequest": _operation(
            "receive",
            "allocationRequested",
            "AllocationRequested",
            "The inserter writes the vouchers and the inbox, then publishes the events.",
            kafka={"groupId": group, "bindingVersion": KAFKA_BINDING},
        ),
        "sendVoucherAllocated": _operation(
            "send", "voucherAllocated", "VoucherAllocated", "The inserter, one per employee."
        ),
        "receiveVoucherAllocated": _operation(
            "receive",
            "voucherAllocated",
            "VoucherAllocated",
            "Every notifier replica reads every partition (read_committed, no consumer "
            "group) and hands each event to the employee's open streams.",
        ),
        "sendAllocationCompleted": _operation(
            "send",
            "allocationCompleted",
            "AllocationCompleted",
            "The inserter, once per allocation.",
        ),
        "sendAllocationRequestDeadLetter": _operation(
            "send",
            "allocationRequestedDeadLetters",
            "DeadLetter",
            "The inserter, for a request it cannot process.",
        ),
        "sendVoucherAllocatedDeadLetter": _operation(
            "send",
            "voucherAllocatedDeadLetters",
            "DeadLetter",
            "The notifier, for an event it cannot read.",
        ),
        "sendStream": _operation(
            "send",
            "stream",
            "VoucherAllocatedFrame",
            "The notifier streams an employee's events, live and replayed.",
            http={
                "method": "GET",
                "query": {
                    "type": "object",
                    "properties": {
                        "last_event_id": {
                            "type": "string",
                            "pattern": "^[0-9]{1,19}$",
                            "description": "Replay after this id, where the client cannot "
                            "send the Last-Event-ID header.",
                        },
                        "employee_id": {
                            "type": "string",
                            "maxLength": 64,
                            "description": "Dev mode only: the employee to stream.",
                        },
                    },
                },
                "bindingVersion": HTTP_BINDING,
            },
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
                "read and, for `herald.allocation.requested`, write) and the notification "
                "stream.\n\n"
                "Every Kafka record is a CloudEvents 1.0 event in structured mode: the value "
                "is the whole event as JSON and the header `content-type` is "
                f"`{CONTENT_TYPE}`. The CloudEvents `type` equals the topic's name. Topic "
                "names may carry a deployment prefix (`HERALD_TOPICS_PREFIX`). Delivery is "
                "at least once: consumers drop duplicates by event id. Each consumed topic "
                "has a `.dlq` topic for records that could not be processed.\n\n"
                "The schemas are generated from the event models in "
                "`libs/common/herald_common/events.py` by `python -m herald_common.asyncapi`."
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
                "description": "The notifier, behind the deployment's ingress.",
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
