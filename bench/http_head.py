"""A request head as the bench's bare servers read it (floor_notifier, floor_opens)."""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from typing import cast

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


class HeadProtocol(asyncio.Protocol, ABC):
    """A connection of a bare server: its request head read whole, then `request` answers
    it; anything the client sends after the head is not read."""

    def __init__(self) -> None:
        self._head = HeadBuffer()
        self._transport: asyncio.Transport | None = None
        self._answered = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        transport = self._transport
        if transport is None or self._answered:
            return
        try:
            head = self._head.feed(data)
        except HeadTooLong:
            transport.close()
            return
        if head is not None:
            self._answered = True
            self.request(transport, *head)

    @abstractmethod
    def request(self, transport: asyncio.Transport, request_line: bytes, fields: bytes) -> None:
        """Answer the request whose head arrived: write to `transport`, close it or keep it."""
