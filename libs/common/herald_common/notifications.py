"""The inbox row <-> CloudEvent mapping, shared by live delivery and replay.

A replayed event and a live one must be the same event, so both are built here from the
same columns: the notification id is the event id, `kind` is the event type and
`payload` is the event data. Bulk writers build the same bytes from templates
(`EventTemplate`, `payload_text`) instead of one `json.dumps` of a whole dict per row.
"""

from __future__ import annotations

import json
import re
import types
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

from psycopg import sql

from herald_common.events import encode, envelope, json_text
from herald_common.stream_frames import NOTIFICATION_STATE, NOTIFICATIONS_READ_ALL

if TYPE_CHECKING:
    # A machine integer for the compiler; at run time an annotation only, never imported.
    from mypy_extensions import i64

# PostgreSQL NOTIFY channel carrying the id of an employee whose read marks changed.
INBOX_CHANNEL = "herald_inbox"
# PostgreSQL NOTIFY channel carrying one item's new state (read, archived) as JSON, or a
# read-all (`up_to`), for the employee's other streams (`notification-state`).
INBOX_STATE_CHANNEL = "herald_inbox_state"
# What counts as unread, everywhere: not read, and not archived (docs/decisions/0050).
UNREAD = sql.SQL("read_at IS NULL AND archived_at IS NULL")


class InboxState:
    """One state change as the notice carries it; `notification_id` None: a read-all."""

    __slots__ = ("archived", "employee_id", "notification_id", "read")

    def __init__(
        self, employee_id: str, notification_id: int, read: bool, archived: bool | None
    ) -> None:
        self.employee_id = employee_id
        self.notification_id = notification_id
        self.read = read
        # None for a read-all: every item up to `notification_id` is read, archived or not.
        self.archived = archived

    def stream_event(self) -> tuple[str, str]:
        """(SSE event name, its data) for the employee's streams."""
        if self.archived is None:
            return NOTIFICATIONS_READ_ALL, json.dumps({"up_to": self.notification_id})
        return NOTIFICATION_STATE, json.dumps(
            {"id": self.notification_id, "read": self.read, "archived": self.archived}
        )


def inbox_state_notice(
    employee_id: str, notification_id: int, read: bool, archived: bool | None
) -> tuple[str, str]:
    """(channel, payload) of the NOTIFY for one item's new state (archived None: read-all)."""
    return INBOX_STATE_CHANNEL, json.dumps(
        {"employee_id": employee_id, "id": notification_id, "read": read, "archived": archived}
    )


def parse_inbox_state(payload: str) -> InboxState | None:
    """The notice's state, or None for a payload that is not one (logged by the caller)."""
    try:
        raw = json.loads(payload)
        employee, nid = raw["employee_id"], raw["id"]
        read, archived = raw["read"], raw["archived"]
    except (ValueError, KeyError, TypeError):
        return None
    if not (isinstance(employee, str) and isinstance(nid, int) and isinstance(read, bool)):
        return None
    if archived is not None and not isinstance(archived, bool):
        return None
    return InboxState(employee, nid, read, archived)


# Kafka header on per-employee events: the id of the same employee's previous notification
# ("0" for none). Per-employee events reach a notifier out of id order (two topics, several
# partitions, several producers); with this a stream tells at once whether it can still be
# missing an earlier one, and only then reads the inbox to close the gap.
PREVIOUS_ID_HEADER: Final = "herald.previous-id"


def previous_id_header(previous_id: int) -> tuple[str, bytes]:
    return PREVIOUS_ID_HEADER, str(previous_id).encode()


def _compiled() -> bool:
    # mypyc builds this module's functions as built-in functions (docs/decisions/0093).
    return not isinstance(_compiled, types.FunctionType)


# Whether this module runs compiled: the two read a header's digits differently.
_COMPILED: Final = _compiled()


def id_from_header(value: bytes) -> int | None:
    """A notification id as a Kafka header carries it (1 to 19 ASCII digits), else None."""
    number = id_or_minus_one(value)
    return None if number < 0 else number


def id_or_minus_one(value: bytes) -> int:
    """`id_from_header`, with -1 for no id. Compiled, an `int` passed on as it is comes out
    of a machine integer; `int | None` is an object, made and freed per record."""
    size = len(value)
    if _COMPILED and 0 < size <= 18:
        # Compiled, a loop over the digits in a machine integer took 0.07 µs for a 13-digit
        # id where `int(value)` took 0.21 µs: mypyc calls `int` the generic way. Interpreted,
        # such a loop takes 0.89 µs and `int` 0.18 µs (measured in isolation). 18 digits fit.
        number: i64 = 0
        for i in range(size):
            digit: i64 = value[i] - 48
            if digit < 0 or digit > 9:
                return -1
            number = number * 10 + digit
        return number
    # bytes.isdigit() accepts ASCII digits only.
    return int(value) if value.isdigit() and size <= 19 else -1


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


class PayloadTemplate:
    """Every payload of one request as five parts around the values that differ per
    employee: parts[0] ‖ ref ‖ parts[1] ‖ employee_id ‖ parts[2] ‖ department ‖ parts[3] ‖
    code ‖ parts[4], the values as JSON (an absent ref or code: nothing).

    Stored once per request (`notification_contents.payload_parts`); each employee's row
    keeps only the values, and the readers put them back together: `row_payload`, or
    PostgreSQL's `notification_payload` in the `notifications` view (docs/decisions/0066).
    """

    __slots__ = ("_departments", "parts")

    def __init__(self, parts: tuple[str, str, str, str, str]) -> None:
        self.parts = parts
        self._departments: dict[str, str] = {}

    def text(
        self, employee_id: str, department: str, code: str | None = None, ref: int | None = None
    ) -> str:
        """The employee's payload as JSON text: `payload_text` of the same dict."""
        dept = self._departments.get(department)
        if dept is None:
            dept = self._departments[department] = json_text(department)
        return _filled(self.parts, employee_id, dept, code, ref)


def _filled(
    parts: tuple[str, ...], employee_id: str, department_json: str, code: str | None, ref: Any
) -> str:
    p = parts
    return (
        f"{p[0]}{'' if ref is None else ref}{p[1]}{quoted(employee_id)}{p[2]}{department_json}"
        f"{p[3]}{'' if code is None else quoted(code)}{p[4]}"
    )


# What a reader selects from a row `r` and its content `c` (after the row's employee id
# and department) to build the payload in Python (`row_payload`). The `notifications` view
# builds it in SQL (`notification_payload`, migration 0012); the parts as plain text cost
# the server nothing, where building and validating the JSON there costs a few microseconds
# a row, so replay reads the tables.
PAYLOAD_SOURCE = (
    "r.payload, c.payload_parts[1], c.payload_parts[2], c.payload_parts[3],"
    " c.payload_parts[4], c.payload_parts[5], r.code, r.ref"
)


# What replay selects, in the order `replayed_event` takes it: a row `r`, its content `c`.
REPLAY_COLUMNS = (
    f"r.id, c.kind, c.source, r.employee_id, r.department, c.created_at, {PAYLOAD_SOURCE}"
)


def replayed_event(row: Sequence[Any]) -> bytes:
    """The event of a row read with `REPLAY_COLUMNS` (and anything after them)."""
    notification_id, kind, source, employee_id, department, created_at, *payload = row[:14]
    return notification_event(
        notification_id=notification_id,
        kind=kind,
        source=source,
        employee_id=employee_id,
        created_at=created_at,
        payload=row_payload(employee_id, department, *payload),
    )


def row_payload(employee_id: str, department: str, *source: Any) -> Any:
    """The payload from a row's employee id, department and its `PAYLOAD_SOURCE` columns:
    what `notification_payload` gives, parsed."""
    payload, *parts, code, ref = source
    if payload is not None:
        return payload
    return json.loads(_filled(tuple(parts), employee_id, quoted(department), code, ref))


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
