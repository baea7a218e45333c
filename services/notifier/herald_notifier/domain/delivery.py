"""What travels from the consumer (or replay) to a stream, and its SSE frame."""

from __future__ import annotations


class Delivery:
    """One event for one stream (or many: the frame is encoded once and shared)."""

    __slots__ = (
        "_frame",
        "allocation_id",
        "data",
        "department",
        "department_visible",
        "employee_id",
        "event_id",
        "event_type",
        "previous_id",
    )

    def __init__(
        self,
        event_id: int | None,
        event_type: str,
        employee_id: str,
        department: str,
        data: str | bytes,
        allocation_id: str | None = None,
        previous_id: int | None = None,
        department_visible: bool = False,
    ) -> None:
        # The notification id, or None for frames that are not inbox items (unread counts,
        # allocation progress): those carry no SSE `id:` and never move Last-Event-ID.
        self.event_id = event_id
        self.event_type = event_type
        self.employee_id = employee_id
        self.department = department
        # The CloudEvent (or control payload) as one line of JSON text (or its UTF-8 bytes,
        # as a Kafka record carried it).
        self.data = data
        # The allocation a live voucher event belongs to, for the allocation's delivered count.
        self.allocation_id = allocation_id
        # The id of the same employee's notification before this one (0: none), as its
        # writer saw it under the writer lock; None when the event did not say. A stream
        # that already sent that id knows nothing of this employee's can still be missing.
        self.previous_id = previous_id
        # Whether the department's watchers (its manager, hr-admins) may see it too; else
        # it is the employee's alone (docs/decisions/0051).
        self.department_visible = department_visible
        self._frame: bytes | None = None

    def frame(self, retry_ms: int) -> bytes:
        """The SSE frame, built on first use and shared by every stream that sends it."""
        frame = self._frame
        if frame is None:
            data = self.data if isinstance(self.data, bytes) else self.data.encode()
            event_id = self.event_id
            # One format each: compiled, building the `id:` line apart took 0.04 µs more
            # (measured in isolation).
            if event_id is None:
                frame = b"event: %b\ndata: %b\nretry: %d\n\n" % (
                    self.event_type.encode(),
                    data,
                    retry_ms,
                )
            else:
                frame = b"id: %d\nevent: %b\ndata: %b\nretry: %d\n\n" % (
                    event_id,
                    self.event_type.encode(),
                    data,
                    retry_ms,
                )
            self._frame = frame
        return frame
