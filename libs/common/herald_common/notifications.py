"""The inbox row <-> CloudEvent mapping, shared by live delivery and replay.

A replayed event and a live one must be the same event, so both are built here from the
same columns: the notification id is the event id, `kind` is the event type and
`payload` is the event data.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from herald_common.events import encode, envelope

# Every writer of `notifications` takes this transaction-level advisory lock before it
# draws ids, so ids become visible in increasing order and "replay after id X" never
# skips a row whose lower id committed later.
NOTIFICATIONS_WRITER_LOCK = 0x4E4F5449  # "NOTI"

# PostgreSQL NOTIFY channel carrying the id of an employee whose read marks changed.
INBOX_CHANNEL = "herald_inbox"


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
