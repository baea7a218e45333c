"""What travels from the consumer (or replay) to a stream."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Delivery:
    # The notification id, or None for frames that are not inbox items (unread counts,
    # allocation progress): those carry no SSE `id:` and never move Last-Event-ID.
    event_id: int | None
    event_type: str
    employee_id: str
    department: str
    # The CloudEvent (or control payload) as JSON text, sent as `data:` without re-encoding.
    data: str
    # The allocation a live voucher event belongs to, for the allocation's delivered count.
    allocation_id: str | None = None
