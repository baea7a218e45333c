"""The inbox row <-> CloudEvent mapping, shared by live delivery and replay.

A replayed event and a live one must be the same event, so both are built here from the
same columns: the notification id is the event id, `kind` is the event type and
`payload` is the event data.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from herald_common.events import encode, envelope

# Every writer of `notifications` takes this transaction-level advisory lock before it
# draws ids, so ids become visible in increasing order and "replay after id X" never
# skips a row whose lower id committed later.
NOTIFICATIONS_WRITER_LOCK = 0x4E4F5449  # "NOTI"

# PostgreSQL NOTIFY channel carrying the id of an employee whose read marks changed.
INBOX_CHANNEL = "herald_inbox"

# Kafka header on per-employee events: the id of the same employee's previous notification
# ("0" for none). Per-employee events reach a notifier out of id order (two topics, several
# partitions, several producers); with this a stream tells at once whether it can still be
# missing an earlier one, and only then reads the inbox to close the gap.
PREVIOUS_ID_HEADER = "herald.previous-id"


def previous_id_header(previous_id: int) -> tuple[str, bytes]:
    return PREVIOUS_ID_HEADER, str(previous_id).encode()


def parse_previous_id(headers: Iterable[tuple[str, bytes]]) -> int | None:
    """The previous id an event's headers name, or None when absent or malformed."""
    for name, value in headers:
        if name == PREVIOUS_ID_HEADER:
            text = value.decode("ascii", errors="replace")
            if text.isascii() and text.isdigit() and len(text) <= 19:
                return int(text)
            return None
    return None


def notification_event(
    *,
    notification_id: int,
    kind: str,
    source: str,
    employee_id: str,
    created_at: datetime,
    payload: dict[str, Any],
) -> bytes:
    return encode(
        envelope(
            event_id=str(notification_id),
            source=source,
            event_type=kind,
            subject=employee_id,
            time=created_at,
            data=payload,
        )
    )
