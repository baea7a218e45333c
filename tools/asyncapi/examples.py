"""One example event per message, built with the services' own models and envelope code."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from pydantic import BaseModel

from herald_common.events import (
    ALLOCATION_COMPLETED,
    ALLOCATION_DELIVERED,
    ALLOCATION_PROGRESS,
    ALLOCATION_REQUESTED,
    ALLOCATION_STATUS,
    ALLOCATION_SUMMARY,
    CHANNEL_BROADCAST,
    NOTIFICATION_PUSHED,
    NOTIFICATION_REQUESTED,
    REVOCATION_COMPLETED,
    REVOCATION_REQUESTED,
    REVOCATION_SUMMARY,
    SOURCE_ALLOCATION,
    SOURCE_CHANNELS,
    SOURCE_INSERTER,
    SOURCE_MAILER,
    SOURCE_NOTIFIER,
    SOURCE_PUSH,
    VOUCHER_ALLOCATED,
    VOUCHER_REVOKED,
    AllocationCompleted,
    AllocationDelivered,
    AllocationProgress,
    AllocationRequested,
    AllocationStatus,
    Criteria,
    IssuedVoucher,
    NotificationPushed,
    NotificationRequested,
    PushTarget,
    RevocationCompleted,
    RevocationRequested,
    VoucherAllocated,
    VoucherRevoked,
    VoucherSpec,
    envelope,
)
from herald_common.pusher.broadcast import channel_event
from tools.asyncapi.models import (
    AllocationSummary,
    RevocationSummary,
    RevocationTotals,
    SummaryTotals,
)
from tools.asyncapi.refs import message_name

_ALLOCATION = UUID("0b9f4a3e-6f5d-4c1e-9a51-2d8f3c7e4b10")
_PUSH = UUID("5f0c2b8e-1d7a-4e3b-8c6f-9a2e4d1b7c30")
_REVOCATION = UUID("8d2e6c4a-3b1f-4a7e-9c5d-1e0f2a3b4c50")
_TIME = datetime(2030, 1, 15, 9, 30, tzinfo=UTC)
_EMPLOYEE = "E000042"
_MANAGER = "E000007"
_REPLICA = "herald-notifier-7c9d5-x2k4q"
_EXPIRES = date(2030, 1, 31)
_PUSH_TITLE = "Office closed on Friday"
_PUSH_BODY = "The Berlin office is closed on 17 January."


def _requested() -> AllocationRequested:
    voucher = VoucherSpec(
        name="Winter bonus",
        amount=Decimal("50.00"),
        currency="EUR",
        expires_on=_EXPIRES,
        code_prefix="WIN",
    )
    criteria = Criteria(departments=["Sales"], min_years_experience=2)
    return AllocationRequested(
        allocation_id=_ALLOCATION, voucher=voucher, criteria=criteria, requested_at=_TIME
    )


def _issued() -> IssuedVoucher:
    return IssuedVoucher(
        name="Winter bonus",
        code="WIN-7KQ2-M4XD",
        amount=Decimal("50.00"),
        currency="EUR",
        expires_on=_EXPIRES,
    )


def _allocated() -> VoucherAllocated:
    voucher = _issued()
    return VoucherAllocated(
        allocation_id=_ALLOCATION,
        employee_id=_EMPLOYEE,
        department="Sales",
        title="You received a voucher: Winter bonus",
        body="50.00 EUR, valid until 2030-01-31.",
        voucher=voucher,
    )


def _summary() -> AllocationSummary:
    totals = SummaryTotals(
        team_recipients=1,
        team_size=12,
        allocation_recipients=1,
        amount_each="50.00",
        amount_total="50.00",
        currency="EUR",
    )
    return AllocationSummary(
        allocation_id=_ALLOCATION,
        employee_id=_MANAGER,
        department="Sales",
        title="Winter bonus: 1 person in your team received it",
        body="1 person of the 12 in Sales received €50.00 each, €50.00 in total.",
        link=f"http://127.0.0.1:8000/allocations/{_ALLOCATION}/team",
        totals=totals,
    )


def _revoked() -> VoucherRevoked:
    voucher = _issued()
    return VoucherRevoked(
        revocation_id=_REVOCATION,
        allocation_id=_ALLOCATION,
        revoked_notification_id=2001,
        employee_id=_EMPLOYEE,
        department="Sales",
        title="Voucher revoked: Winter bonus",
        body="Your voucher of 50.00 EUR is no longer valid. Reason: Sent to the wrong team",
        reason="Sent to the wrong team",
        voucher=voucher,
    )


def _revocation_summary() -> RevocationSummary:
    totals = RevocationTotals(
        team_revoked=1, revoked=1, amount_each="50.00", amount_total="50.00", currency="EUR"
    )
    return RevocationSummary(
        revocation_id=_REVOCATION,
        allocation_id=_ALLOCATION,
        employee_id=_MANAGER,
        department="Sales",
        title="Winter bonus: revoked from 1 person in your team",
        body="The voucher of 1 person in your team was revoked (€50.00 each, €50.00 in"
        " total). Reason: Sent to the wrong team",
        reason="Sent to the wrong team",
        link=f"http://127.0.0.1:8000/allocations/{_ALLOCATION}/team",
        totals=totals,
    )


def examples() -> dict[str, dict[str, Any]]:
    """One valid event per message (and stream frame), keyed by the message's name."""
    allocation, push = str(_ALLOCATION), str(_PUSH)
    # (id, source, type, subject, data) of each event.
    events: tuple[tuple[str, str, str, str, BaseModel], ...] = (
        (allocation, SOURCE_ALLOCATION, ALLOCATION_REQUESTED, allocation, _requested()),
        ("2001", SOURCE_INSERTER, VOUCHER_ALLOCATED, _EMPLOYEE, _allocated()),
        (
            f"{allocation}:approved",
            SOURCE_ALLOCATION,
            ALLOCATION_STATUS,
            allocation,
            AllocationStatus(
                allocation_id=_ALLOCATION,
                status="scheduled",
                step="approved",
                actor="E000003",
                send_at=_TIME,
            ),
        ),
        (
            f"{allocation}:progress:inserted",
            SOURCE_INSERTER,
            ALLOCATION_PROGRESS,
            allocation,
            AllocationProgress(
                allocation_id=_ALLOCATION,
                phase="inserted",
                matched=1,
                inserted=1,
                published=0,
                chunks_done=0,
                chunks_total=1,
            ),
        ),
        (
            f"{allocation}:completed",
            SOURCE_INSERTER,
            ALLOCATION_COMPLETED,
            allocation,
            AllocationCompleted(
                allocation_id=_ALLOCATION, status="completed", matched=1, inserted=1, published=1
            ),
        ),
        (
            push,
            SOURCE_PUSH,
            NOTIFICATION_REQUESTED,
            push,
            NotificationRequested(
                push_id=_PUSH,
                requested_by="facilities",
                title=_PUSH_TITLE,
                body=_PUSH_BODY,
                data={"office": "Berlin"},
                target=PushTarget(department="Sales"),
                requested_at=_TIME,
            ),
        ),
        (
            "2002",
            SOURCE_PUSH,
            NOTIFICATION_PUSHED,
            _EMPLOYEE,
            NotificationPushed(
                push_id=_PUSH,
                employee_id=_EMPLOYEE,
                department="Sales",
                title=_PUSH_TITLE,
                body=_PUSH_BODY,
                data={"office": "Berlin"},
            ),
        ),
        ("2003", SOURCE_MAILER, ALLOCATION_SUMMARY, _MANAGER, _summary()),
        (
            str(_REVOCATION),
            SOURCE_ALLOCATION,
            REVOCATION_REQUESTED,
            str(_REVOCATION),
            RevocationRequested(
                revocation_id=_REVOCATION,
                allocation_id=_ALLOCATION,
                requested_by="E000001",
                reason="Sent to the wrong team",
                employee_ids=[_EMPLOYEE],
                requested_at=_TIME,
            ),
        ),
        ("2004", SOURCE_INSERTER, VOUCHER_REVOKED, _EMPLOYEE, _revoked()),
        ("2005", SOURCE_MAILER, REVOCATION_SUMMARY, _MANAGER, _revocation_summary()),
        (
            f"{_REVOCATION}:completed",
            SOURCE_INSERTER,
            REVOCATION_COMPLETED,
            allocation,
            RevocationCompleted(
                revocation_id=_REVOCATION,
                allocation_id=_ALLOCATION,
                status="completed",
                revoked=1,
                published=1,
            ),
        ),
        (
            f"{allocation}:delivered:{_REPLICA}:1",
            SOURCE_NOTIFIER,
            ALLOCATION_DELIVERED,
            allocation,
            AllocationDelivered(allocation_id=_ALLOCATION, delivered=1, replica=_REPLICA),
        ),
        (
            "5c1f0e9a2b7d4e3f8a6b0c1d",
            SOURCE_CHANNELS,
            CHANNEL_BROADCAST,
            "presence-sales-floor",
            channel_event(
                ["presence-sales-floor"],
                "pusher_internal:member_added",
                '{"user_id":"E000042","user_info":{"id":"E000042"}}',
                exclude_socket_id="123456.654321",
            ),
        ),
    )
    return {
        message_name(kind): envelope(
            event_id=event, source=source, event_type=kind, subject=subject, time=_TIME, data=data
        )
        for event, source, kind, subject, data in events
    }
