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
    # The id of the same employee's notification before this one (0: none), as its writer
    # saw it under the writer lock; None when the event did not say. A stream that already
    # sent that id knows nothing of this employee's can still be missing.
    previous_id: int | None = None
