"""The operations: who writes and who reads each channel, with the consumer groups."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from herald_common.catalogue import (
    ALLOCATION_COMPLETED_TOPIC,
    ALLOCATION_REQUESTED_TOPIC,
    INSERTER_GROUP,
    MAILER_GROUP,
    NOTIFICATION_PUSHED_TOPIC,
    NOTIFICATION_REQUESTED_TOPIC,
    REVOCATION_REQUESTED_TOPIC,
    VOUCHER_ALLOCATED_TOPIC,
    VOUCHER_REVOKED_TOPIC,
    Topic,
)
from herald_common.events import (
    ALLOCATION_COMPLETED,
    ALLOCATION_PROGRESS,
    ALLOCATION_SUMMARY,
    NOTIFICATION_PUSHED,
    REVOCATION_COMPLETED,
    REVOCATION_SUMMARY,
)
from tools.asyncapi import pusher, stream
from tools.asyncapi.channels import dead_letter_messages
from tools.asyncapi.refs import (
    HTTP_BINDING,
    KAFKA_BINDING,
    channel_name,
    dead_letter_channel_name,
    message_name,
)

# The setting that names each consumer group.
_APP_IDS = {INSERTER_GROUP: "HERALD_INSERTER_APP_ID", MAILER_GROUP: "HERALD_MAILER_APP_ID"}


def _operation(
    action: str, channel: str, messages: Iterable[str], summary: str, **bindings: Any
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


def _send(topic: Topic, summary: str, kinds: tuple[str, ...] = ()) -> dict[str, Any]:
    """Writing `kinds` (by default the one the topic is named after) to a topic."""
    kinds = kinds or (topic.name,)
    return _operation("send", channel_name(topic), map(message_name, kinds), summary)


def _receive(
    topic: Topic, summary: str, kinds: tuple[str, ...] = (), group: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Reading `kinds` (by default every kind) of a topic, in a consumer group or not."""
    bindings = {} if group is None else {"kafka": group}
    messages = map(message_name, kinds or topic.kinds)
    return _operation("receive", channel_name(topic), messages, summary, **bindings)


def _group(name: str) -> dict[str, Any]:
    return {
        "groupId": {"type": "string", "const": name, "description": _APP_IDS[name]},
        "bindingVersion": KAFKA_BINDING,
    }


def _dead_letter(topic: Topic, summary: str) -> dict[str, Any]:
    messages = dead_letter_messages(topic)
    return _operation("send", dead_letter_channel_name(topic), messages, summary)


def operations() -> dict[str, Any]:
    # Built once: the file names a group's binding once and refers to it (a YAML anchor).
    inserter, mailer = _group(INSERTER_GROUP), _group(MAILER_GROUP)
    return {
        "sendAllocationRequest": _send(
            ALLOCATION_REQUESTED_TOPIC,
            "The allocation API (and any external producer) requests an allocation.",
        ),
        "receiveAllocationRequest": _receive(
            ALLOCATION_REQUESTED_TOPIC,
            "The inserter writes the vouchers and the inbox, then publishes the events.",
            group=inserter,
        ),
        "sendVoucherAllocated": _send(VOUCHER_ALLOCATED_TOPIC, "The inserter, one per employee."),
        "receiveVoucherAllocated": _receive(
            VOUCHER_ALLOCATED_TOPIC,
            "Every notifier replica reads every partition (read_committed, no consumer "
            "group) and hands each event to the employee's open streams.",
        ),
        "sendAllocationProgress": _send(
            ALLOCATION_COMPLETED_TOPIC,
            "The inserter, after each phase of an allocation.",
            (ALLOCATION_PROGRESS,),
        ),
        "sendAllocationCompleted": _send(
            ALLOCATION_COMPLETED_TOPIC, "The inserter, once per allocation."
        ),
        "receiveAllocationProgress": _receive(
            ALLOCATION_COMPLETED_TOPIC,
            "Every notifier replica reads every partition (no consumer group) and forwards "
            "progress and completions to the allocation's watchers.",
        ),
        "receiveAllocationCompleted": _receive(
            ALLOCATION_COMPLETED_TOPIC,
            "The mailer, in its consumer group, writes each manager's summary (in-app and "
            "by email) once an allocation completed; it passes over progress events.",
            (ALLOCATION_COMPLETED,),
            mailer,
        ),
        "sendNotificationRequest": _send(
            NOTIFICATION_REQUESTED_TOPIC,
            "The allocation API (`POST /v1/notifications`), the channels service (an event "
            "triggered through the Pusher HTTP API on `private-employee-<id>`, with "
            "`data.pusher` = {event, data}; decision 0059) and any external producer ask to "
            "notify employees.",
        ),
        "receiveNotificationRequest": _receive(
            NOTIFICATION_REQUESTED_TOPIC,
            "The inserter resolves the target, writes the inbox, then publishes the events.",
            group=inserter,
        ),
        "sendNotificationPushed": _send(
            NOTIFICATION_PUSHED_TOPIC,
            "The inserter, one per recipient of a push.",
            (NOTIFICATION_PUSHED,),
        ),
        "sendAllocationSummary": _send(
            NOTIFICATION_PUSHED_TOPIC,
            "The mailer, one per manager of an allocation's recipients.",
            (ALLOCATION_SUMMARY,),
        ),
        "receiveNotificationPushed": _receive(
            NOTIFICATION_PUSHED_TOPIC,
            "Every notifier replica reads every partition (no consumer group) and hands "
            "each event to the employee's open streams, whatever its type.",
        ),
        "sendRevocationRequest": _send(
            REVOCATION_REQUESTED_TOPIC,
            "The allocation API (`POST /v1/allocations/{id}:revoke`) and any external "
            "producer ask to revoke a completed allocation's vouchers.",
        ),
        "receiveRevocationRequest": _receive(
            REVOCATION_REQUESTED_TOPIC,
            "The inserter voids the vouchers and writes the inbox, then publishes the events.",
            group=inserter,
        ),
        "sendVoucherRevoked": _send(VOUCHER_REVOKED_TOPIC, "The inserter, one per voucher voided."),
        "receiveVoucherRevoked": _receive(
            VOUCHER_REVOKED_TOPIC,
            "Every notifier replica reads every partition (read_committed, no consumer "
            "group) and hands each event to the employee's open streams.",
        ),
        "sendRevocationCompleted": _send(
            ALLOCATION_COMPLETED_TOPIC,
            "The inserter, once per revocation.",
            (REVOCATION_COMPLETED,),
        ),
        "sendRevocationSummary": _send(
            NOTIFICATION_PUSHED_TOPIC,
            "The mailer, one per manager of the employees a revocation reached.",
            (REVOCATION_SUMMARY,),
        ),
        "sendRevocationRequestDeadLetter": _dead_letter(
            REVOCATION_REQUESTED_TOPIC, "The inserter, for a revoke request it cannot process."
        ),
        "sendVoucherRevokedDeadLetter": _dead_letter(
            VOUCHER_REVOKED_TOPIC, "The notifier, for an event it cannot read."
        ),
        "sendAllocationRequestDeadLetter": _dead_letter(
            ALLOCATION_REQUESTED_TOPIC, "The inserter, for a request it cannot process."
        ),
        "sendNotificationRequestDeadLetter": _dead_letter(
            NOTIFICATION_REQUESTED_TOPIC, "The inserter, for a push request it cannot process."
        ),
        "sendVoucherAllocatedDeadLetter": _dead_letter(
            VOUCHER_ALLOCATED_TOPIC, "The notifier, for an event it cannot read."
        ),
        "sendNotificationPushedDeadLetter": _dead_letter(
            NOTIFICATION_PUSHED_TOPIC, "The notifier, for an event it cannot read."
        ),
        "sendAllocationCompletedDeadLetter": _dead_letter(
            ALLOCATION_COMPLETED_TOPIC,
            "The notifier and the mailer, for a record they cannot read; the mailer also "
            "for each summary email it gave up on.",
        ),
        "sendStream": _operation(
            "send",
            "stream",
            stream.FRAMES,
            "The notifier streams an employee's events, live and replayed, with unread "
            "counts, and the progress of the allocations an hr-admin watches.",
            http={"method": "GET", "query": stream.query(), "bindingVersion": HTTP_BINDING},
        ),
        "sendPusher": _operation(
            "send",
            "pusher",
            [*pusher.SENT, *pusher.BOTH],
            "The channels service sends a Pusher client its connection, subscriptions, "
            "presence, Herald's notifications (replayed, then live) and channel events.",
        ),
        "receivePusher": _operation(
            "receive",
            "pusher",
            [*pusher.RECEIVED, *pusher.BOTH],
            "A Pusher client subscribes, signs in, pings and sends client events.",
        ),
    }
