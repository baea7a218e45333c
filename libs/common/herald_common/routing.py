"""Routing headers: what a notifier routes a per-employee event by, readable without JSON.

The record value stays the whole CloudEvent (structured mode is the contract). Herald's
inserter repeats the few attributes a notifier needs in headers, so a notifier can hand
the value to the right streams as it is: it reads 100,000 events per allocation and most
have no stream on that replica, so decoding each one would cost more than everything else
it does (docs/decisions/0031). The record key is the department.

Records without these headers (other writers) are decoded and validated in full instead.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Final

from herald_common.events import VOUCHER_ALLOCATED
from herald_common.notifications import PREVIOUS_ID_HEADER, id_or_minus_one
from herald_common.record_checks import HERALD_HEADER_PREFIX, checked_headers

NOTIFICATION_ID_HEADER: Final = "herald.notification-id"
EMPLOYEE_ID_HEADER: Final = "herald.employee-id"
# On voucher events only: the allocation, for its live delivered count.
ALLOCATION_ID_HEADER: Final = "herald.allocation-id"
# Who may see the event besides its employee: "department" (the department's watchers) or
# "private" (nobody else). Without it: voucher events are the department's, the rest
# private (docs/decisions/0051). Any other value counts as private.
VISIBILITY_HEADER: Final = "herald.visibility"
DEPARTMENT_VISIBLE: Final = b"department"
PRIVATE: Final = b"private"


def department_visible(headers: Iterable[tuple[str, bytes | None]], event_type: str) -> bool:
    """Whether a per-employee event may reach its department's watchers."""
    for name, value in headers:
        if name == VISIBILITY_HEADER:
            return value == DEPARTMENT_VISIBLE
    return event_type == VOUCHER_ALLOCATED


def _visible(value: bytes | None, event_type: str) -> bool:
    """`department_visible`, from the visibility header's value (None: absent)."""
    return event_type == VOUCHER_ALLOCATED if value is None else value == DEPARTMENT_VISIBLE


class InvalidRouting(ValueError):
    pass


class Routing:
    """The routing attributes of one per-employee record."""

    __slots__ = (
        "allocation_id",
        "department_visible",
        "employee_id",
        "notification_id",
        "previous_id",
    )

    def __init__(
        self,
        notification_id: int,
        employee_id: str,
        previous_id: int | None,
        allocation_id: str | None,
        department_visible: bool,
    ) -> None:
        self.notification_id = notification_id
        self.employee_id = employee_id
        self.previous_id = previous_id
        self.allocation_id = allocation_id
        # Whether the department's watchers may see it too (`department_visible`).
        self.department_visible = department_visible


def _not_an_id(name: str) -> InvalidRouting:
    return InvalidRouting(f"header {name} must be 1 to 19 digits")


def read_routing(headers: Iterable[tuple[str, bytes | None]], event_type: str) -> Routing | None:
    """The routing headers, None when the record has none (decode it in full instead).

    Raises InvalidRouting when they are there but malformed: such a record is dead-lettered.
    A header without a value counts as absent here; the consumer rejects such records (and
    routing headers given twice) before (herald_common.record_checks).
    """
    return routing_by(dict(headers), event_type)


def routing_by(found: Mapping[str, bytes | None], event_type: str) -> Routing | None:
    """`read_routing`, from the headers looked up by name (herald_common.record_checks
    `checked_headers`, which has also rejected a routing header given twice)."""
    return _routing(
        found.get(NOTIFICATION_ID_HEADER),
        found.get(EMPLOYEE_ID_HEADER),
        found.get(PREVIOUS_ID_HEADER),
        found.get(ALLOCATION_ID_HEADER),
        _visible(found.get(VISIBILITY_HEADER), event_type),
    )


def route(headers: Sequence[tuple[str, bytes | None]], event_type: str) -> Routing | None:
    """A record's routing (`routing_by`), its headers first checked as `checked_headers`
    checks them, in one pass over them: a notifier reads 100,000 records per allocation.

    Raises InvalidRouting naming what is wrong: malformed routing headers, or Herald headers
    that make no sense (one given twice, or without a value).
    """
    # Compiled (docs/decisions/0093), comparing each name with the five a record may carry
    # took 0.50 µs for a voucher event's six headers, read and all, where checking them into
    # a dict and reading that took 0.85 µs (measured in isolation).
    raw_id: bytes | None = None
    raw_employee: bytes | None = None
    raw_previous: bytes | None = None
    raw_allocation: bytes | None = None
    raw_visibility: bytes | None = None
    for name, value in headers:
        # In the order Herald's inserter writes them; a name none of them is costs a test
        # of its prefix after the five comparisons, not before them.
        if value is None:
            pass
        elif name == NOTIFICATION_ID_HEADER and raw_id is None:
            raw_id = value
            continue
        elif name == EMPLOYEE_ID_HEADER and raw_employee is None:
            raw_employee = value
            continue
        elif name == VISIBILITY_HEADER and raw_visibility is None:
            raw_visibility = value
            continue
        elif name == PREVIOUS_ID_HEADER and raw_previous is None:
            raw_previous = value
            continue
        elif name == ALLOCATION_ID_HEADER and raw_allocation is None:
            raw_allocation = value
            continue
        if name.startswith(HERALD_HEADER_PREFIX):
            # One of Herald's without a value or given twice, or another (a dead letter's
            # history): the checked path tells which, and accepts the last.
            return _checked_route(headers, event_type)
    return _routing(
        raw_id, raw_employee, raw_previous, raw_allocation, _visible(raw_visibility, event_type)
    )


def _checked_route(headers: Sequence[tuple[str, bytes | None]], event_type: str) -> Routing | None:
    found, problem = checked_headers(headers)
    if problem is not None:
        raise InvalidRouting(problem)
    return routing_by(found, event_type)


def _routing(
    raw_id: bytes | None,
    raw_employee: bytes | None,
    raw_previous: bytes | None,
    raw_allocation: bytes | None,
    visible: bool,
) -> Routing | None:
    if raw_id is None and raw_employee is None:
        return None
    if raw_id is None or raw_employee is None:
        raise InvalidRouting(
            f"headers {NOTIFICATION_ID_HEADER} and {EMPLOYEE_ID_HEADER} come together"
        )
    notification_id = id_or_minus_one(raw_id)
    if notification_id < 0:
        raise _not_an_id(NOTIFICATION_ID_HEADER)
    try:
        employee_id = raw_employee.decode()
    except UnicodeDecodeError as exc:
        raise InvalidRouting(f"header {EMPLOYEE_ID_HEADER} is not UTF-8") from exc
    if not employee_id or not employee_id.isprintable():
        raise InvalidRouting(f"header {EMPLOYEE_ID_HEADER} must be a printable employee id")
    previous_id = None
    if raw_previous is not None:
        previous = id_or_minus_one(raw_previous)
        if previous < 0:
            raise _not_an_id(PREVIOUS_ID_HEADER)
        previous_id = previous
    allocation_id = None
    if raw_allocation is not None:
        # Positional: compiled, the keyword took 0.13 µs where this takes 0.08 µs.
        allocation_id = raw_allocation.decode("ascii", "replace")
    return Routing(notification_id, employee_id, previous_id, allocation_id, visible)
