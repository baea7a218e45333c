"""What travels from the consumer (or replay) to a stream: one event for one employee."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Delivery:
    event_id: int
    event_type: str
    employee_id: str
    department: str
    # The CloudEvent as JSON text, sent as the frame's `data:` without re-encoding.
    data: str
