"""The inbox row <-> CloudEvent mapping, shared by live delivery and replay.

A replayed event and a live one must be the same event, so both are built here from the
same columns: the notification id is the event id, `kind` is the event type and
`payload` is the event data. Bulk writers build the same bytes from templates
(`EventTemplate`, `payload_text`) instead of one `json.dumps` of a whole dict per row.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from herald_common.events import encode, envelope, json_text

# PostgreSQL NOTIFY channel carrying the id of an employee whose read marks changed.
INBOX_CHANNEL = "herald_inbox"

# Kafka header on per-employee events: the id of the same employee's previous notification
# ("0" for none). Per-employee events reach a notifier out of id order (two topics, several
# partitions, several producers); with this a stream tells at once whether it can still be
# missing an earlier one, and only then reads the inbox to close the gap.
PREVIOUS_ID_HEADER = "herald.previous-id"


def previous_id_header(previous_id: int) -> tuple[str, bytes]:
    return PREVIOUS_ID_HEADER, str(previous_id).encode()


def id_from_header(value: bytes) -> int | None:
    """A notification id as a Kafka header carries it (1 to 19 ASCII digits), else None."""
    # bytes.isdigit() accepts ASCII digits only.
    return int(value) if value.isdigit() and len(value) <= 19 else None


def parse_previous_id(headers: Iterable[tuple[str, bytes | None]]) -> int | None:
    """The previous id an event's headers name, or None when absent or malformed."""
    for name, value in headers:
        if name == PREVIOUS_ID_HEADER:
            # A header without a value (Kafka allows one) names no id.
            return None if value is None else id_from_header(value)
    return None


# Strings that JSON-encode as themselves between quotes (employee ids, voucher codes).
_PLAIN = re.compile(r"[A-Za-z0-9_.:@ -]*")


def quoted(value: str) -> str:
    """`json_text(value)` for a string, without the encoder for the common plain case."""
    return f'"{value}"' if _PLAIN.fullmatch(value) else json_text(value)


def payload_text(payload: dict[str, Any]) -> str:
    """A payload as the JSON text stored in `notifications.payload` and sent as event data."""
    return json_text(payload)


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


class EventTemplate:
    """`notification_event` for many rows of one kind, source and time, from payload text.

    Produces byte for byte what `notification_event` produces for the same values, with
    the constant parts of the envelope encoded once.
    """

    __slots__ = ("_middle",)

    def __init__(self, *, kind: str, source: str, created_at: datetime) -> None:
        self._middle = (
            f'","source":{json_text(source)},"type":{json_text(kind)},'
            f'"time":{json_text(created_at.isoformat())},'
            '"datacontenttype":"application/json","data":'
        )

    def render(self, notification_id: int, employee_id: str, payload_json: str) -> bytes:
        return (
            f'{{"specversion":"1.0","id":"{notification_id}{self._middle}{payload_json}'
            f',"subject":{quoted(employee_id)}}}'
        ).encode()
