"""Requests as the inserter reads them from Kafka, for tests that drive its stores directly."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from uuid import uuid4

from herald_common.events import AllocationRequested, Criteria, VoucherSpec


def allocation_request(
    department: str, *, name: str = "Bonus", code_prefix: str = "TOP"
) -> AllocationRequested:
    """A new allocation of 10.00 EUR to one department, requested now."""
    return AllocationRequested(
        allocation_id=uuid4(),
        voucher=VoucherSpec(
            name=name,
            amount=Decimal("10.00"),
            currency="EUR",
            expires_on=date(2040, 1, 1),
            code_prefix=code_prefix,
        ),
        criteria=Criteria(departments=[department]),
        requested_at=datetime.now(UTC),
    )
