"""The inserter builds each row's JSON from templates; it must equal encoding the dict."""

from datetime import UTC, date, datetime
from decimal import Decimal
from uuid import uuid4

from herald_common.events import (
    AllocationRequested,
    Criteria,
    NotificationRequested,
    PushTarget,
    VoucherSpec,
)
from herald_common.notifications import payload_text
from herald_inserter.domain.allocation_store import VoucherPayloads
from herald_inserter.domain.push_store import PushPayloads


def test_voucher_payload_text_equals_the_encoded_dict():
    request = AllocationRequested(
        allocation_id=uuid4(),
        voucher=VoucherSpec(
            name='Bonus\r\n"Q4"\u2028 x',
            amount=Decimal("12.5"),
            currency="EUR",
            expires_on=date(2027, 3, 1),
            code_prefix="Q4",
        ),
        criteria=Criteria(all_employees=True),
        requested_at=datetime.now(UTC),
    )
    payloads = VoucherPayloads(request)
    text = payloads.text("E-1.x", "R&D / Ünits", "Q4-ABCD-EFGH-JKLM")
    assert text == payload_text(
        {
            "allocation_id": str(request.allocation_id),
            "employee_id": "E-1.x",
            "department": "R&D / Ünits",
            "title": 'New voucher: Bonus\r\n"Q4"\u2028 x',
            "body": "You received 12.50 EUR, valid until 2027-03-01.",
            "voucher": {
                "name": 'Bonus\r\n"Q4"\u2028 x',
                "code": "Q4-ABCD-EFGH-JKLM",
                "amount": "12.50",
                "currency": "EUR",
                "expires_on": "2027-03-01",
            },
        }
    )


def test_push_payload_text_equals_the_encoded_dict():
    request = NotificationRequested(
        push_id=uuid4(),
        requested_by="payroll",
        title="Pay\x00slip",
        body="line\nbreak",
        data={"k": ["v", 1, None], "\u2029": "x"},
        target=PushTarget(department="HR"),
        requested_at=datetime.now(UTC),
    )
    text = PushPayloads(request).text("E7", "HR")
    assert text == payload_text(
        {
            "push_id": str(request.push_id),
            "employee_id": "E7",
            "department": "HR",
            "title": "Pay\x00slip",
            "body": "line\nbreak",
            "data": {"k": ["v", 1, None], "\u2029": "x"},
        }
    )
