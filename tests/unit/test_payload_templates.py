"""The inserter builds each row's JSON from templates; it must equal encoding the dict."""

from datetime import UTC, date, datetime
from decimal import Decimal
from uuid import uuid4

from herald_common.events import (
    AllocationRequested,
    Criteria,
    NotificationRequested,
    PushTarget,
    RevocationRequested,
    VoucherSpec,
)
from herald_common.notifications import PayloadTemplate, payload_text
from herald_inserter.domain.allocation_store import VoucherPayloads
from herald_inserter.domain.push_store import PushPayloads
from herald_inserter.domain.revocation_store import RevokedNotice


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


def test_revoked_notice_text_equals_the_encoded_dict():
    request = RevocationRequested(
        revocation_id=uuid4(),
        allocation_id=uuid4(),
        requested_by="hr-1",
        reason='Paid "twice"\u2028 again',
        employee_ids=None,
        requested_at=datetime.now(UTC),
    )
    voucher = {"name": "Ünit bonus", "amount": "7.5", "currency": "EUR", "expires_on": "2030-01-31"}
    text = RevokedNotice(request, voucher).text("E-9", "Sales", "WIN-AAAA", 41)
    assert text == payload_text(
        {
            "revocation_id": str(request.revocation_id),
            "allocation_id": str(request.allocation_id),
            "revoked_notification_id": 41,
            "employee_id": "E-9",
            "department": "Sales",
            "title": "Voucher revoked: Ünit bonus",
            "body": 'Your voucher of 7.50 EUR is no longer valid. Reason: Paid "twice"\u2028 again',
            "reason": 'Paid "twice"\u2028 again',
            "voucher": {
                "name": "Ünit bonus",
                "code": "WIN-AAAA",
                "amount": "7.50",
                "currency": "EUR",
                "expires_on": "2030-01-31",
            },
        }
    )


def test_a_template_leaves_out_the_values_a_payload_has_no_place_for():
    template = PayloadTemplate(('{"a":', ',"e":', ',"d":', ',"c":', "}"))
    assert template.text("E1", "D") == '{"a":,"e":"E1","d":"D","c":}'
    assert template.text("E1", "D", "C", 7) == '{"a":7,"e":"E1","d":"D","c":"C"}'
