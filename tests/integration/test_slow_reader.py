"""A reader that stops reading is cut off with a complete response, and nothing is logged.

A real notifier process and a raw socket client: the client opens a stream, stops reading,
and events are published until the notifier cuts it off (its buffer full, or a write stuck
past the send timeout). Then the client reads what it was sent: a well-formed chunked body
that ends with the terminating chunk, as a response the server ended on purpose; and the
notifier logged no error for it (uvicorn's "ASGI callable returned without completing
response" is what a response abandoned mid-way leaves).
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import socket
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import HeraldEnv
from tests.support.processes import ServiceProcess, free_port
from tests.support.voucher_events import VoucherEvents, new_employee

pytestmark = pytest.mark.integration

DEPARTMENT = "Slow-Readers"
CUT_OFF_METRIC = re.compile(rb"^herald_notifier_slow_subscribers_cut_off_total (\S+)$", re.M)
TERMINATING_CHUNK = b"0\r\n\r\n"
MAX_BATCHES = 100


@pytest.fixture
def employee_id(herald_env: HeraldEnv) -> str:
    return new_employee(herald_env, "SLOW", DEPARTMENT)


def _cut_offs(base_url: str) -> float:
    found = CUT_OFF_METRIC.search(httpx.get(f"{base_url}/metrics", timeout=5).content)
    return float(found.group(1)) if found else 0.0


def _chunks(body: bytes) -> Iterator[bytes]:
    """The chunks of a chunked body, in order; fails on anything malformed."""
    at = 0
    while True:
        line_end = body.index(b"\r\n", at)
        size = int(body[at:line_end], 16)
        start = line_end + 2
        assert body[start + size : start + size + 2] == b"\r\n", "a chunk without its CRLF"
        yield body[start : start + size]
        at = start + size + 2
        if size == 0:
            assert at == len(body), "bytes after the terminating chunk"
            return


async def _open_slow_stream(
    port: int, headers: dict[str, str]
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter, bytes]:
    """A stream whose client reads up to its first frame, then nothing (and has a small
    receive buffer, so the notifier's writes back up soon); with the bytes read."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
    reader, writer = await asyncio.open_connection(sock=sock, limit=1024)
    head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    writer.write(f"GET /v1/stream HTTP/1.1\r\nHost: 127.0.0.1\r\n{head}\r\n".encode())
    await writer.drain()
    opening = await asyncio.wait_for(reader.readuntil(b": connected"), 15)
    # The writer too: dropping it would close the connection.
    return reader, writer, opening


async def _read_to_the_end(reader: asyncio.StreamReader) -> bytes:
    """What the notifier sent after the stream opened, until the response ends or the
    connection closes."""
    received = bytearray()
    deadline = time.monotonic() + 30
    while not received.endswith(TERMINATING_CHUNK) and time.monotonic() < deadline:
        try:
            data = await asyncio.wait_for(reader.read(65536), 5)
        except TimeoutError:
            break
        if not data:
            break
        received += data
    return bytes(received)


async def _stream_until_cut_off(
    herald_env: HeraldEnv, employee_id: str, notifier: ServiceProcess, port: int, batch: int
) -> bytes:
    base_url = f"http://127.0.0.1:{port}"
    await asyncio.to_thread(notifier.wait_http, f"{base_url}/readyz")
    headers = herald_env.bearer(employee_id, ["employee"])
    reader, writer, opening = await _open_slow_stream(port, headers)
    async with VoucherEvents(herald_env, employee_id, DEPARTMENT) as publisher:
        for _ in range(MAX_BATCHES):
            await publisher.batch(batch)
            if await asyncio.to_thread(_cut_offs, base_url):
                break
            await asyncio.sleep(0.2)
        else:
            pytest.fail("the stream was never cut off")
    # Whatever the notifier does after the cut-off, it has done it by now.
    await asyncio.sleep(2)
    try:
        return opening + await _read_to_the_end(reader)
    finally:
        writer.close()


def _assert_ended_cleanly(received: bytes, notifier: ServiceProcess) -> None:
    head, _, body = received.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), head
    assert b"transfer-encoding: chunked" in head.lower()
    lines = notifier.log_path.read_text(errors="replace").splitlines()
    errors = [
        line
        for line in lines
        if "returned without completing response" in line
        or (line.startswith("{") and json.loads(line)["level"] in ("ERROR", "CRITICAL"))
    ]
    # Both at once, so a failure shows the body's end and the log lines together.
    assert (body.endswith(TERMINATING_CHUNK), errors) == (True, []), body[-40:]
    # Well-formed up to there, and the reader got events before it stopped reading.
    events = b"".join(_chunks(body))
    assert events.count(b"event: herald.voucher.allocated") > 0


@pytest.mark.parametrize(
    ("settings", "batch"),
    [
        # Its buffer overflows while a write waits. Events go out in batches smaller than
        # the buffer (a burst alone would fill it before anything was written), until the
        # notifier's socket and transport buffers are full and its writes wait.
        pytest.param({"HERALD_NOTIFIER_SUBSCRIBER_QUEUE_SIZE": "500"}, 200, id="full-buffer"),
        # Its write is stuck past the send timeout, the buffer never full.
        pytest.param(
            {
                "HERALD_NOTIFIER_SUBSCRIBER_QUEUE_SIZE": "1000000",
                "HERALD_NOTIFIER_SEND_TIMEOUT_SECONDS": "1",
            },
            500,
            id="stuck-write",
        ),
    ],
)
async def test_a_reader_cut_off_gets_a_complete_response_and_no_error_is_logged(
    herald_env: HeraldEnv, employee_id: str, settings: dict[str, str], batch: int
) -> None:
    port = free_port()
    notifier = ServiceProcess(
        f"notifier-slow-reader-{secrets.token_hex(3)}",  # a log of its own
        "herald_notifier",
        {**herald_env.variables(), "HERALD_NOTIFIER_PORT": str(port), **settings},
        herald_env.log_dir,
    ).start()
    try:
        received = await _stream_until_cut_off(herald_env, employee_id, notifier, port, batch)
    finally:
        notifier.stop()
    _assert_ended_cleanly(received, notifier)
