"""A request head as the bench's bare servers read it (floor_notifier, floor_opens)."""

from __future__ import annotations

# A head longer than this is refused: the connection is closed.
HEAD_LIMIT = 16 * 1024


class HeadTooLong(Exception):
    pass


class HeadBuffer:
    """The bytes of a request head as they arrive, up to the blank line that ends it."""

    __slots__ = ("_data",)

    def __init__(self) -> None:
        self._data = b""

    def feed(self, data: bytes) -> tuple[bytes, bytes] | None:
        """The request line and the header fields once the head is whole, None until then;
        raises HeadTooLong past HEAD_LIMIT."""
        self._data += data
        end = self._data.find(b"\r\n\r\n")
        if end < 0:
            if len(self._data) > HEAD_LIMIT:
                raise HeadTooLong
            return None
        head, self._data = self._data[:end], b""
        request_line, _, fields = head.partition(b"\r\n")
        return request_line, fields
