"""The bare servers' request head: read whole however it arrives, refused when too long."""

from __future__ import annotations

import pytest

from bench.http_head import HEAD_LIMIT, HeadBuffer, HeadTooLong


def test_a_head_in_one_piece_gives_its_request_line_and_fields() -> None:
    head = HeadBuffer().feed(b"GET /v1/stream HTTP/1.1\r\nHost: x\r\nA: b\r\n\r\n")
    assert head == (b"GET /v1/stream HTTP/1.1", b"Host: x\r\nA: b")


def test_a_head_split_anywhere_is_read_once_whole() -> None:
    buffer = HeadBuffer()
    assert buffer.feed(b"GET / HTTP/1.1\r\nHost: x\r") is None
    assert buffer.feed(b"\n\r\n") == (b"GET / HTTP/1.1", b"Host: x")


def test_a_head_past_the_limit_is_refused() -> None:
    buffer = HeadBuffer()
    with pytest.raises(HeadTooLong):
        buffer.feed(b"GET / HTTP/1.1\r\nX: " + b"a" * HEAD_LIMIT)
