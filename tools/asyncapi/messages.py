"""The Kafka messages: one per event type written to a topic, and the dead letters."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from herald_common import routing
from herald_common.catalogue import TOPICS, Key, Topic
from herald_common.dead_letter import HEADER_PREFIX, MAILER_MANAGER_HEADER
from herald_common.events import (
    ALLOCATION_COMPLETED,
    ALLOCATION_PROGRESS,
    ALLOCATION_REQUESTED,
    ALLOCATION_STATUS,
    ALLOCATION_SUMMARY,
    CHANNEL_BROADCAST,
    CONTENT_TYPE,
    NOTIFICATION_PUSHED,
    NOTIFICATION_REQUESTED,
    REVOCATION_COMPLETED,
    REVOCATION_REQUESTED,
    REVOCATION_SUMMARY,
    VOUCHER_ALLOCATED,
    VOUCHER_REVOKED,
    AllocationCompleted,
    AllocationProgress,
    AllocationRequested,
    AllocationStatus,
    CloudEvent,
    NotificationPushed,
    NotificationRequested,
    RevocationCompleted,
    RevocationRequested,
    VoucherAllocated,
    VoucherRevoked,
)
from herald_common.notifications import PREVIOUS_ID_HEADER
from herald_common.pusher.broadcast import ChannelBroadcast
from tools.asyncapi.examples import examples
from tools.asyncapi.models import AllocationSummary, RevocationSummary
from tools.asyncapi.refs import KAFKA_BINDING, lower_first, message_name, schema_ref


@dataclass(frozen=True, slots=True)
class Message:
    event_type: str
    # The structured-mode envelope of the event, with its data model.
    envelope: type[BaseModel]
    title: str
    description: str

    @property
    def name(self) -> str:
        return message_name(self.event_type)


def _by_name(*messages: Message) -> dict[str, Message]:
    return {message.name: message for message in messages}


MESSAGES = _by_name(
    Message(
        ALLOCATION_REQUESTED,
        CloudEvent[AllocationRequested],
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
        "producing system is its own review. The four-eyes approval rule applies as in the "
        "API (`HERALD_APPROVAL_*`): a request over it that no second hr-admin approved is "
        "not written; the allocation waits as `pending_approval` (a "
        "`herald.allocation.status` is not sent for it: the API's console lists it) until an "
        "hr-admin approves it, which sends it again, or it expires. A trusted producer is "
        "exempt when its CloudEvents `source` is listed in "
        "`HERALD_APPROVAL_EXEMPT_SOURCES`: only as strong as the topic's write ACL.",
    ),
    Message(
        ALLOCATION_STATUS,
        CloudEvent[AllocationStatus],
        "A step of an allocation before it is written",
        "Sent by the allocation API, through its outbox, for each step before the inserter "
        "has the allocation: `requested` (status `pending_approval`, `scheduled` or "
        "`requested`), `approved`, `rejected` (with the reason), `scheduled` (with "
        "`send_at`), `cancelled` and `expired`. `actor` is the hr-admin, or `herald` for "
        "an expiry. On the completion's topic and key, so it precedes the allocation's "
        "progress in its partition. `id` is `<allocation id>:<step>`; the same steps are "
        "in the allocation's audit trail (`GET /v1/allocations/{id}/history`).",
    ),
    Message(
        VOUCHER_ALLOCATED,
        CloudEvent[VoucherAllocated],
        "A voucher issued to one employee",
        "One event per employee. `id` is the notification id: the same event replayed from "
        "the inbox carries the same id, so consumers drop duplicates by id. `subject` is "
        "the employee id.",
    ),
    Message(
        ALLOCATION_PROGRESS,
        CloudEvent[AllocationProgress],
        "Progress of an allocation",
        "Sent by the inserter after each chunk committed in Kafka (`chunk`, with "
        "`chunks_done` of `chunks_total`) and after each phase (`inserted`, then `published`) "
        "with the counts so far, on the completion's topic and key, so it precedes the "
        "completion in its partition. Sent without waiting for Kafka's acknowledgement: it "
        "informs watchers and may be missing. `id` is `<allocation id>:progress:<phase>` "
        "(`<allocation id>:progress:chunk:<n>` for a chunk).",
    ),
    Message(
        ALLOCATION_COMPLETED,
        CloudEvent[AllocationCompleted],
        "The outcome of an allocation",
        "Sent once an allocation completed or failed, with its counts. `id` is "
        "`<allocation id>:<status>`. Consumers of this topic tell it from progress events "
        "by the CloudEvents `type`.",
    ),
    Message(
        NOTIFICATION_REQUESTED,
        CloudEvent[NotificationRequested],
        "A request to notify employees",
        "A generic push from another system: a title, a body, free-form `data`, and a "
        "`target` of `employee_ids` (up to 10,000), a `department` or `criteria`. Written "
        "by `POST /v1/notifications`, or directly by any producer. The CloudEvents `id` "
        "and the record key are the push id. The inserter resolves the target and writes "
        "one inbox notification and one `herald.notification.pushed` event per employee.",
    ),
    Message(
        NOTIFICATION_PUSHED,
        CloudEvent[NotificationPushed],
        "A generic notification to one employee",
        "One event per recipient of a push, keyed and identified like voucher events "
        "(`id` is the notification id, `subject` the employee id).",
    ),
    Message(
        ALLOCATION_SUMMARY,
        CloudEvent[AllocationSummary],
        "A manager's summary of an allocation",
        "Written by the mailer once an allocation completed: one per manager of a "
        "recipient, covering the recipients in the manager's team (voucher codes are never "
        "included). A per-employee event like the others (`id` is the notification id, "
        "`subject` the manager's employee id); the same summary is also emailed.",
    ),
    Message(
        REVOCATION_REQUESTED,
        CloudEvent[RevocationRequested],
        "A request to revoke an allocation's vouchers",
        "Asks Herald to void the vouchers of a completed allocation: every one, or those of "
        "`employee_ids`, with a `reason` each employee is shown. Written by "
        "`POST /v1/allocations/{id}:revoke`, or directly by any producer; the CloudEvents "
        "`id` is the revocation id (writing it twice revokes once) and the record key the "
        "allocation id. A request for an allocation that is not completed, or naming "
        "employees without a voucher of it, goes to the dead-letter topic with the reason. "
        "Vouchers already void are left as they are.",
    ),
    Message(
        VOUCHER_REVOKED,
        CloudEvent[VoucherRevoked],
        "A voucher revoked from one employee",
        "One event per voucher voided. `id` is the notification id, always above "
        "`revoked_notification_id` (the voucher's own notification), so replay by "
        "Last-Event-ID sends the voucher before its revocation. `subject` is the employee id.",
    ),
    Message(
        REVOCATION_SUMMARY,
        CloudEvent[RevocationSummary],
        "A manager's summary of a revocation",
        "Written by the mailer once a revocation completed: one per manager of an employee "
        "whose voucher it voided, with the reason (voucher codes are never included). A "
        "per-employee event like the others (`id` is the notification id, `subject` the "
        "manager's employee id); the same summary is also emailed, at most once.",
    ),
    Message(
        REVOCATION_COMPLETED,
        CloudEvent[RevocationCompleted],
        "The outcome of a revocation",
        "Sent once a revocation completed or failed, with the number of vouchers it voided. "
        "`id` is `<revocation id>:<status>`; the key is the allocation id, so it follows "
        "the allocation's completion in its partition.",
    ),
    Message(
        CHANNEL_BROADCAST,
        CloudEvent[ChannelBroadcast],
        "What every channels replica's Pusher sockets should hear",
        "Written by a channels replica (or the Pusher HTTP API) for an act that reaches "
        "sockets wherever they are: `kind: event` is an event for the subscribers of "
        "`channels` (a triggered event, a client event, a presence member added or "
        "removed), not sent to `exclude_socket_id`; `kind: terminate` closes every "
        "connection signed in as `user_id`. Every replica reads every partition, live. "
        "Nothing here is durable: Herald's notifications reach Pusher clients from the "
        "per-employee topics and the inbox.",
    ),
)

_KEYS: dict[Key, dict[str, Any]] = {
    Key.ALLOCATION: {"type": "string", "format": "uuid", "description": "The allocation id."},
    Key.PUSH: {"type": "string", "format": "uuid", "description": "The push id."},
    Key.CHANNEL: {
        "type": "string",
        "description": "The first channel the event is for (a channel's events keep their "
        "order), or the user of a termination.",
    },
    Key.DEPARTMENT: {
        "type": "string",
        "description": "The employee's department: all of a department's events share a "
        "partition. Order by id, not by offset: after a crash, or with several workers, a "
        "partition may carry an employee's ids out of order, or one twice.",
    },
}
# What herald_common.dead_letter adds to a record, after HEADER_PREFIX.
DEAD_LETTER_HEADERS = {
    "reason": "Why the record was rejected: a validation message or `ErrorType: message`.",
    "error-type": "`Rejected` for invalid input, else the exception's type.",
    "original-topic": "The topic the record was read from.",
    "original-partition": "Its partition (decimal).",
    "original-offset": "Its offset (decimal).",
    "failed-at": "When it was dead-lettered (ISO 8601, UTC).",
}
# What it adds to some records only.
OPTIONAL_DEAD_LETTER_HEADERS = {
    "value-omitted-bytes": "Set when the value was larger than the consumer reads: the dead "
    "letter has no value, and this is the size of the original's, which stays on the "
    "original topic at the offset above until that topic's retention ends.",
}


def topic_of(message: str) -> Topic:
    (topic,) = [t for t in TOPICS if message in map(message_name, t.kinds)]
    return topic


def _id_header(description: str) -> dict[str, Any]:
    return {"type": "string", "pattern": "^[0-9]{1,19}$", "description": description}


def _kafka_headers(per_employee: bool) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "content-type": {
            "type": "string",
            "const": CONTENT_TYPE,
            "description": "CloudEvents structured mode: the whole event is the value.",
        }
    }
    if per_employee:
        properties[PREVIOUS_ID_HEADER] = _id_header(
            "The id of the same employee's previous notification (0: none), "
            "set by Herald's inserter. A reader that has seen that id can be missing none of "
            "the employee's earlier ones. Absent from other writers' events."
        )
        properties[routing.NOTIFICATION_ID_HEADER] = _id_header(
            "Routing header set by Herald's inserter: the event's `id`. With "
            f"{routing.EMPLOYEE_ID_HEADER} and the key (the department), a notifier routes the "
            "event without parsing the value. Events without routing headers are parsed in full."
        )
        properties[routing.EMPLOYEE_ID_HEADER] = {
            "type": "string",
            "minLength": 1,
            "description": "Routing header set by Herald's inserter: the employee "
            f"(`data.employee_id`). Comes with {routing.NOTIFICATION_ID_HEADER}.",
        }
        properties[routing.ALLOCATION_ID_HEADER] = {
            "type": "string",
            "format": "uuid",
            "description": "Routing header on voucher events from Herald's inserter: "
            "`data.allocation_id`, for the allocation's live delivered count.",
        }
        properties[routing.VISIBILITY_HEADER] = {
            "type": "string",
            "enum": [routing.DEPARTMENT_VISIBLE.decode(), routing.PRIVATE.decode()],
            "description": "Who may see the event besides its employee: `department` (the "
            "department channel's watchers, live and on replay) or `private`. Without it a "
            "voucher event is the department's and anything else private; another value "
            "counts as private (docs/decisions/0051).",
        }
    return {"type": "object", "required": ["content-type"], "properties": properties}


def _dead_letter_headers(**extra: str) -> dict[str, Any]:
    properties = {
        f"{HEADER_PREFIX}{name}": {"type": "string", "description": text}
        for name, text in DEAD_LETTER_HEADERS.items()
    }
    properties |= {name: {"type": "string", "description": text} for name, text in extra.items()}
    optional = {
        f"{HEADER_PREFIX}{name}": {"type": "string", "description": text}
        for name, text in OPTIONAL_DEAD_LETTER_HEADERS.items()
    }
    return {
        "type": "object",
        "description": "The original record's headers, plus these.",
        "required": sorted(properties),
        "properties": properties | optional,
    }


def _event_message(message: Message, example: dict[str, Any]) -> dict[str, Any]:
    key = topic_of(message.name).key
    return {
        "name": message.name,
        "title": message.title,
        "summary": message.title,
        "description": message.description,
        "contentType": CONTENT_TYPE,
        "headers": _kafka_headers(per_employee=key is Key.DEPARTMENT),
        "payload": schema_ref(f"{message.name}Event"),
        "bindings": {"kafka": {"key": _KEYS[key], "bindingVersion": KAFKA_BINDING}},
        "examples": [
            {
                "name": lower_first(message.name),
                "headers": {"content-type": CONTENT_TYPE},
                "payload": example,
            }
        ],
    }


def kafka_messages() -> dict[str, Any]:
    """The components of every Kafka message, the dead letters' included."""
    samples = examples()
    messages = {name: _event_message(m, samples[name]) for name, m in MESSAGES.items()}
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
    return messages
