"""What the scenarios send: voucher notifications shaped like the inserter's, and helpers."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

from herald_common.events import AllocationRequested, Criteria, VoucherSpec
from herald_common.notifications import payload_text
from herald_inserter.domain.inbox_writer import IssuedNotification

VOUCHER = VoucherSpec(
    name="Benchmark bonus",
    amount=Decimal("50.00"),
    currency="EUR",
    expires_on=date.today() + timedelta(days=365),
    code_prefix="BENCH",
)


def allocation_request(criteria: Criteria | None = None) -> AllocationRequested:
    return AllocationRequested(
        allocation_id=uuid4(),
        voucher=VOUCHER,
        criteria=criteria or Criteria(all_employees=True),
        requested_at=datetime.now(UTC),
    )


def voucher_payload(
    allocation_id: UUID, employee_id: str, department: str, serial: int
) -> dict[str, Any]:
    """The data of one voucher event, with the keys and sizes the inserter writes."""
    code = f"{VOUCHER.code_prefix}-{serial:012X}"
    code = f"{code[:-8]}-{code[-8:-4]}-{code[-4:]}"
    return {
        "allocation_id": str(allocation_id),
        "employee_id": employee_id,
        "department": department,
        "title": TITLE,
        "body": BODY,
        "voucher": {
            "name": VOUCHER.name,
            "code": code,
            "amount": f"{VOUCHER.amount:.2f}",
            "currency": VOUCHER.currency,
            "expires_on": VOUCHER.expires_on.isoformat(),
        },
    }


TITLE = f"New voucher: {VOUCHER.name}"
BODY = f"You received {VOUCHER.amount:.2f} {VOUCHER.currency}, valid until {VOUCHER.expires_on}."


def voucher_text(allocation_id: UUID, employee_id: str, department: str, serial: int) -> str:
    return payload_text(voucher_payload(allocation_id, employee_id, department, serial))


def issued(
    notification_id: int,
    employee_id: str,
    department: str,
    allocation_id: UUID,
    previous_id: int | None = None,
) -> IssuedNotification:
    text = voucher_text(allocation_id, employee_id, department, notification_id)
    return IssuedNotification(notification_id, employee_id, department, text, previous_id)


def notifications(
    employees: Sequence[tuple[str, str]], count: int, first_id: int, allocation_id: UUID
) -> list[IssuedNotification]:
    """`count` notifications with ids from `first_id`, cycling over the employees.

    Each names the employee's previous one (0 for the first), as the inserter's do, so a
    stream can send them straight away instead of first reading the inbox for a gap.
    """
    out = []
    previous: dict[str, int] = {}
    for i in range(count):
        employee_id, department = employees[i % len(employees)]
        notification_id = first_id + i
        out.append(
            issued(
                notification_id,
                employee_id,
                department,
                allocation_id,
                previous.get(employee_id, 0),
            )
        )
        previous[employee_id] = notification_id
    return out


def spread(items: Sequence[Any], count: int) -> list[Any]:
    """`count` items taken evenly across the sequence (all of them if it is shorter)."""
    if count >= len(items):
        return list(items)
    step = len(items) / count
    return [items[int(i * step)] for i in range(count)]


def median(values: Sequence[float]) -> float | None:
    return statistics.median(values) if values else None


def percentile(sorted_values: Sequence[float], fraction: float) -> float | None:
    """Nearest-rank percentile of already sorted values."""
    if not sorted_values:
        return None
    rank = max(1, min(len(sorted_values), math.ceil(fraction * len(sorted_values))))
    return sorted_values[rank - 1]
