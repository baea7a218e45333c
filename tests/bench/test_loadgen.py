"""The load generator's parser: HTTP status, chunked coding and SSE frames, however split."""

from __future__ import annotations

from typing import Any

import pytest

from bench.loadgen import LoadGenerator, Stream

KIND = "herald.voucher.allocated"


class FakeTransport:
    def __init__(self) -> None:
        self.written = b""
        self.closed = False

    def write(self, data: bytes) -> None:
        self.written += data

    def close(self) -> None:
        self.closed = True


def chunked(*pieces: bytes) -> bytes:
    return b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces)


def frame(event_id: int, kind: str = KIND, eol: bytes = b"\r\n") -> bytes:
    lines = [b"id: %d" % event_id, b"event: " + kind.encode(), b'data: {"x": 1}', b"retry: 3000"]
    return eol.join(lines) + eol + eol


HEAD = (
    b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream; charset=utf-8\r\n"
    b"Transfer-Encoding: chunked\r\n\r\n"
)


def generator() -> LoadGenerator:
    return LoadGenerator({"host": "127.0.0.1", "kinds": [KIND], "streams": []})


def feed(stream: Stream, data: bytes, step: int) -> None:
    for i in range(0, len(data), step):
        stream.data_received(data[i : i + step])


@pytest.mark.parametrize("step", [1, 2, 3, 7, 64, 10_000])
@pytest.mark.parametrize("eol", [b"\r\n", b"\n"])
async def test_frames_are_counted_however_the_bytes_are_split(step: int, eol: bytes) -> None:
    gen = generator()
    stream = Stream(gen, b"GET / HTTP/1.1\r\n\r\n")
    gen.streams.append(stream)
    transport: Any = FakeTransport()
    stream.connection_made(transport)
    assert transport.written.startswith(b"GET / HTTP/1.1")
    body = chunked(
        b": connected" + eol + eol,
        frame(1, eol=eol) + frame(2, kind="unread-count", eol=eol),
        frame(3, eol=eol)[:10],
        frame(3, eol=eol)[10:] + b": ping" + eol + eol,
    )
    feed(stream, HEAD, step)
    gen.arm(per_stream=None, total=None, record=True)
    feed(stream, body, step)
    assert stream.open
    assert stream.ready.done()
    window = gen.window
    assert window is not None
    assert [event_id for event_id, _ in window.ids] == [b"1", b"3"]
    assert window.received == 2
    assert stream.window_count == 2


async def test_a_stream_completes_the_window_when_it_has_its_events() -> None:
    gen = generator()
    streams = [Stream(gen, b"") for _ in range(2)]
    gen.streams.extend(streams)
    for stream in streams:
        stream.connection_made(FakeTransport())  # type: ignore[arg-type]
        stream.data_received(HEAD + chunked(b": connected\r\n\r\n"))
    gen.arm(per_stream=2, total=None, record=False)
    streams[0].data_received(chunked(frame(1), frame(2)))
    assert gen.window is not None
    assert not gen.window.done.is_set()
    streams[1].data_received(chunked(frame(3)))
    assert not gen.window.done.is_set()
    streams[1].data_received(chunked(frame(4)))
    assert gen.window.done.is_set()
    result = await gen.wait(0, None)
    assert result["complete"]
    assert result["complete_streams"] == 2
    assert result["received"] == 4
    assert result["all_streams_at"] == result["last"]


async def test_a_refused_stream_fails_with_its_status() -> None:
    gen = generator()
    stream = Stream(gen, b"")
    transport = FakeTransport()
    stream.connection_made(transport)  # type: ignore[arg-type]
    stream.data_received(b"HTTP/1.1 401 Unauthorized\r\ncontent-length: 0\r\n\r\n")
    assert transport.closed
    assert not stream.open
    assert stream.error == "HTTP status HTTP/1.1 401 Unauthorized"


async def test_a_window_by_stream_keeps_each_streams_ids_in_arrival_order() -> None:
    gen = generator()
    streams = [Stream(gen, b"") for _ in range(3)]
    gen.streams.extend(streams)
    for stream in streams:
        stream.connection_made(FakeTransport())  # type: ignore[arg-type]
        stream.data_received(HEAD + chunked(b": connected\r\n\r\n"))
    streams[0].data_received(chunked(frame(9)))  # before the window: not counted
    gen.arm(per_stream=None, total=None, record=False, by_stream=True)
    streams[1].data_received(chunked(frame(4), frame(2)))
    streams[0].data_received(chunked(frame(1), frame(1)))
    assert gen.peek()["received"] == 4
    assert gen.window is not None  # peeking leaves the window open
    streams[2].connection_lost(None)
    result = await gen.wait(0, None)
    assert result["by_stream"] == [["1", "1"], ["4", "2"], []]
    assert result["closed_streams"] == [2]
    assert "ids" not in result
