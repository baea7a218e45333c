import json
from datetime import UTC, date, datetime
from decimal import Decimal
from uuid import uuid4

import pytest
from pydantic import ValidationError

from herald_common.events import (
    AllocationRequested,
    CloudEvent,
    Criteria,
    VoucherAllocated,
    VoucherSpec,
    encode,
    envelope,
    request_fingerprint,
)
from herald_common.notifications import notification_event

VOUCHER = VoucherSpec(
    name="Winter bonus",
    amount=Decimal("50.00"),
    currency="EUR",
    expires_on=date(2027, 1, 31),
    code_prefix="WIN",
)


def test_envelope_has_the_cloudevents_required_attributes():
    when = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
    request = AllocationRequested(
        allocation_id=uuid4(),
        voucher=VOUCHER,
        criteria=Criteria(departments=["Sales"]),
        requested_at=when,
    )
    raw = encode(
        envelope(
            event_id="a1",
            source="/herald/allocation",
            event_type="herald.allocation.requested",
            data=request,
            time=when,
        )
    )
    body = json.loads(raw)
    assert body["specversion"] == "1.0"
    assert body["id"] == "a1"
    assert body["source"] == "/herald/allocation"
    assert body["type"] == "herald.allocation.requested"
    assert body["datacontenttype"] == "application/json"
    assert body["time"] == "2026-11-21T09:00:00+00:00"
    parsed = CloudEvent[AllocationRequested].model_validate_json(raw)
    assert parsed.data == request


def test_notification_event_round_trips_as_voucher_allocated():
    created = datetime(2026, 11, 21, 9, 30, tzinfo=UTC)
    payload = {
        "allocation_id": str(uuid4()),
        "employee_id": "E1",
        "department": "Sales",
        "title": "New voucher: Winter bonus",
        "body": "You received 50.00 EUR.",
        "voucher": {
            "name": "Winter bonus",
            "code": "WIN-AAAA-BBBB-CCCC",
            "amount": "50.00",
            "currency": "EUR",
            "expires_on": "2027-01-31",
        },
    }
    raw = notification_event(
        notification_id=42,
        kind="herald.voucher.allocated",
        source="/herald/inserter",
        employee_id="E1",
        created_at=created,
        payload=payload,
    )
    event = CloudEvent[VoucherAllocated].model_validate_json(raw)
    assert event.id == "42"
    assert event.subject == "E1"
    assert event.time == created
    assert event.data.voucher.amount == Decimal("50.00")


@pytest.mark.parametrize(
    "mutation",
    [
        {"specversion": "0.3"},
        {"id": ""},
        {"source": None},
        {"data": {"allocation_id": "not-a-uuid"}},
    ],
)
def test_invalid_envelopes_are_rejected(mutation):
    base = envelope(
        event_id="1",
        source="/x",
        event_type="herald.allocation.requested",
        data=AllocationRequested(
            allocation_id=uuid4(),
            voucher=VOUCHER,
            criteria=Criteria(all_employees=True),
            requested_at=datetime.now(UTC),
        ),
    )
    base.update(mutation)
    with pytest.raises(ValidationError):
        CloudEvent[AllocationRequested].model_validate(base)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("currency", "eur"),
        ("amount", Decimal("0")),
        ("amount", Decimal("1.234")),
        ("code_prefix", "a-b"),
        ("name", "  "),
    ],
)
def test_voucher_spec_rejects_bad_values(field, value):
    with pytest.raises(ValidationError):
        VoucherSpec.model_validate({**VOUCHER.model_dump(), field: value})


def test_fingerprint_depends_on_content_only():
    same = request_fingerprint(VOUCHER, Criteria(departments=["Sales"]))
    assert same == request_fingerprint(VOUCHER, Criteria(departments=["Sales"]))
    assert same != request_fingerprint(VOUCHER, Criteria(departments=["HR"]))


def test_encoded_events_stay_on_one_line_for_every_reader():
    hostile = "a\r\nb\rc\nd\u2028e\u2029f\x85g\x1ch\x00i"
    raw = encode({"text": hostile})
    assert b"\n" not in raw
    assert b"\r" not in raw
    assert len(raw.decode().splitlines()) == 1
    assert json.loads(raw) == {"text": hostile}


def test_templated_events_are_the_bytes_replay_produces():
    from herald_common.notifications import EventTemplate, payload_text

    created = datetime(2026, 11, 21, 9, 30, tzinfo=UTC)
    payload = {"employee_id": "E1", "department": "Säles\u2028", "title": "t\r\n\x00", "data": [1]}
    replayed = notification_event(
        notification_id=9,
        kind="herald.notification.pushed",
        source="/herald/push",
        employee_id="E1",
        created_at=created,
        payload=payload,
    )
    live = EventTemplate(
        kind="herald.notification.pushed", source="/herald/push", created_at=created
    ).render(9, "E1", payload_text(payload))
    assert live == replayed
