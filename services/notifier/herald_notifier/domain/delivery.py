"""What travels from the consumer (or replay) to a stream, and its SSE frame."""

from __future__ import annotations


class Delivery:
    """One event for one stream (or many: the frame is encoded once and shared)."""

    __slots__ = (
        "_frame",
        "allocation_id",
        "data",
        "department",
        "employee_id",
        "event_id",
        "event_type",
    )

    def __init__(
        self,
        event_id: int | None,
        event_type: str,
        employee_id: str,
        department: str,
        data: str,
        allocation_id: str | None = None,
    ) -> None:
        # The notification id, or None for frames that are not inbox items (unread counts,
        # allocation progress): those carry no SSE `id:` and never move Last-Event-ID.
        self.event_id = event_id
        self.event_type = event_type
        self.employee_id = employee_id
        self.department = department
        # The CloudEvent (or control payload) as one line of JSON text.
        self.data = data
        # The allocation a live voucher event belongs to, for the allocation's delivered count.
        self.allocation_id = allocation_id
        self._frame: bytes | None = None

    def frame(self, retry_ms: int) -> bytes:
        """The SSE frame, built on first use and shared by every stream that sends it."""
        if self._frame is None:
            head = "" if self.event_id is None else f"id: {self.event_id}\n"
            self._frame = (
                f"{head}event: {self.event_type}\ndata: {self.data}\nretry: {retry_ms}\n\n"
            ).encode()
        return self._frame
