"""The notifier's HTTP protocol: uvicorn's, with list-based containers that behave the same."""

import asyncio
import logging

import httpx
import pytest
import uvicorn
import uvloop
from fastapi import FastAPI
from fastapi.responses import StreamingResponse
from uvicorn.protocols.utils import get_local_addr, get_remote_addr

from herald_notifier.compat import (
    LeanEvent,
    LeanHttpToolsProtocol,
    _local_address,
    _Pipeline,
    _remote_address,
    access_line_at,
    direct_writer,
)
from tests.support.uvicorn_server import serving


def test_the_pipeline_is_first_in_first_out_like_uvicorns_deque():
    pipeline = _Pipeline()
    assert not pipeline
    pipeline.appendleft("first")
    pipeline.appendleft("second")
    assert pipeline
    assert pipeline.pop() == "first"
    assert pipeline.pop() == "second"
    assert not pipeline


async def test_a_lean_event_wakes_every_waiter_and_forgets_them():
    event = LeanEvent()
    waiters = [asyncio.create_task(event.wait()) for _ in range(3)]
    await asyncio.sleep(0)
    assert len(event._waiters) == 3
    event.set()
    assert await asyncio.wait_for(asyncio.gather(*waiters), 1) == [True, True, True]
    assert event._waiters == []
    event.clear()
    assert not event.is_set()


async def test_uvicorn_serves_requests_and_pipelined_requests_with_the_lean_protocol():
    app = FastAPI()

    @app.get("/n/{n}")
    async def echo(n: int) -> dict[str, int]:
        return {"n": n}

    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, http=LeanHttpToolsProtocol, log_config=None, lifespan="off"
    )
    async with serving(uvicorn.Server(config)) as port:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            assert (await client.get("/n/1")).json() == {"n": 1}
        # Two requests in one write: the second waits in the pipeline for the first.
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        request = "GET /n/{} HTTP/1.1\r\nHost: x\r\n\r\n"
        writer.write((request.format(2) + request.format(3)).encode())
        await writer.drain()
        received = b""
        while received.count(b'{"n":') < 2:
            received += await asyncio.wait_for(reader.read(4096), 5)
        assert received.index(b'{"n":2}') < received.index(b'{"n":3}')
        writer.close()


async def test_a_response_ends_at_once_while_its_reader_reads_nothing():
    """The end of a response is written without waiting for a reader that stopped reading:
    a stream cut off for being slow ends complete, instead of abandoned mid-way."""
    ended = asyncio.Event()

    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        await send({"type": "http.response.start", "status": 200, "headers": []})
        # Far more than the socket and the transport hold: writing is paused after this.
        await send({"type": "http.response.body", "body": b"x" * 8_000_000, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})
        ended.set()

    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, http=LeanHttpToolsProtocol, log_config=None, lifespan="off"
    )
    async with serving(uvicorn.Server(config)) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=1024)
        try:
            writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            await writer.drain()
            await asyncio.wait_for(ended.wait(), 5)  # the client has read next to nothing
            received = b""
            while not received.endswith(b"0\r\n\r\n"):
                data = await asyncio.wait_for(reader.read(1 << 20), 5)
                assert data, "the connection closed before the response's end"
                received += data
            assert received.count(b"x") == 8_000_000
        finally:
            writer.close()


def _lean_config(app) -> uvicorn.Config:
    return uvicorn.Config(
        app, host="127.0.0.1", port=0, http=LeanHttpToolsProtocol, log_config=None, lifespan="off"
    )


async def _read_until(reader: asyncio.StreamReader, end: bytes) -> bytes:
    received = b""
    while not received.endswith(end):
        data = await asyncio.wait_for(reader.read(1 << 20), 5)
        assert data, "the connection closed before the response's end"
        received += data
    return received


async def _served_once(app, request: bytes) -> None:
    """`request` sent to `app` on the lean protocol, its chunked response read to the end."""
    async with serving(uvicorn.Server(_lean_config(app))) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            writer.write(request)
            await _read_until(reader, b"0\r\n\r\n")
        finally:
            writer.close()


async def test_a_direct_chunk_is_what_uvicorns_send_writes():
    written: list[bool] = []

    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        await send({"type": "http.response.start", "status": 200, "headers": []})
        writer = direct_writer(scope, send)
        assert writer is not None
        written.append(writer.ready())  # the head is held for the first body part
        await send({"type": "http.response.body", "body": b"data: zero\n\n", "more_body": True})
        written.append(writer.ready())
        writer.write(b"data: one\n\n")
        await send({"type": "http.response.body", "body": b"data: two\n\n", "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    async with serving(uvicorn.Server(_lean_config(app))) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            received = await _read_until(reader, b"0\r\n\r\n")
        finally:
            writer.close()
    assert written == [False, True]
    body = received.split(b"\r\n\r\n", 1)[1]
    assert body == (b"c\r\ndata: zero\n\n\r\nb\r\ndata: one\n\n\r\nb\r\ndata: two\n\n\r\n0\r\n\r\n")


async def test_a_direct_chunk_is_refused_while_the_reader_reads_nothing():
    """Past the transport's high-water mark the caller must `send`, which waits for the
    reader (and is timed by the Heartbeat): a stopped reader is not written to without end."""
    refused = asyncio.Event()
    direct: list[int] = []

    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"x", "more_body": True})
        writer = direct_writer(scope, send)
        assert writer is not None
        direct.append(0)
        while writer.ready():
            direct[0] += 1
            writer.write(b"x" * 65536)
            await asyncio.sleep(0)  # the transport tells the protocol to pause meanwhile
        refused.set()
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    async with serving(uvicorn.Server(_lean_config(app))) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=1024)
        try:
            writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            await writer.drain()
            await asyncio.wait_for(refused.wait(), 5)  # the client has read next to nothing
            await _read_until(reader, b"0\r\n\r\n")
        finally:
            writer.close()
    assert direct[0] > 0  # written directly until the transport paused


async def test_a_direct_chunk_is_refused_outside_the_lean_protocol():
    async def send(message):
        raise AssertionError("not called")

    assert direct_writer({"type": "http"}, send) is None


class _CountedWrites:
    """A cycle's transport, its writes recorded."""

    def __init__(self, transport) -> None:
        self.transport = transport
        self.writes: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.writes.append(data)
        self.transport.write(data)

    def __getattr__(self, name):
        return getattr(self.transport, name)


async def test_a_responses_head_leaves_with_its_first_body_part_in_one_write():
    writes: list[list[bytes]] = []

    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        cycle = send.__self__
        counted = cycle.transport = _CountedWrites(cycle.transport)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        writes.append(list(counted.writes))
        await send({"type": "http.response.body", "body": b"data: one\n\n", "more_body": True})
        writes.append(list(counted.writes))
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    await _served_once(app, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    held, [first] = writes
    assert held == []
    assert first.startswith(b"HTTP/1.1 200 OK\r\n")
    assert first.endswith(b"\r\n\r\nb\r\ndata: one\n\n\r\n")


def _without_date(response: bytes) -> bytes:
    return b"\r\n".join(line for line in response.split(b"\r\n") if not line.startswith(b"date:"))


async def _raw_response(http, request: bytes, app) -> bytes:
    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, http=http, log_config=None, lifespan="off"
    )
    async with serving(uvicorn.Server(config)) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            writer.write(request)
            received = b""
            while data := await asyncio.wait_for(reader.read(1 << 20), 5):
                received += data
        finally:
            writer.close()
    return received


async def test_responses_are_byte_for_byte_uvicorns_whole_head_and_streamed():
    app = FastAPI()

    @app.api_route("/n/{n}", methods=["GET", "HEAD"])
    async def echo(n: int) -> dict[str, int]:
        return {"n": n}

    @app.get("/parts")
    async def parts() -> StreamingResponse:
        return StreamingResponse(iter([b"data: one\n\n", b"data: two\n\n"]))

    for method, path in (("GET", "/n/7"), ("HEAD", "/n/7"), ("GET", "/parts")):
        sent = f"{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode()
        lean = await _raw_response(LeanHttpToolsProtocol, sent, app)
        own = await _raw_response("httptools", sent, app)
        assert lean.startswith(b"HTTP/1.1 200 OK\r\n"), (method, path)
        assert _without_date(lean) == _without_date(own), (method, path)


def _access_app(level: int | None, status: int = 200):
    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        if level is not None:
            access_line_at(scope, level)
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b"data: one\n\n", "more_body": False})

    return app


async def _access_records(app, caplog: pytest.LogCaptureFixture, level: int) -> list:
    caplog.set_level(level, logger="uvicorn.access")
    await _served_once(app, b"GET /v1/stream?ticket=T HTTP/1.1\r\nHost: x\r\n\r\n")
    return [r for r in caplog.records if r.name == "uvicorn.access"]


async def test_a_response_not_asked_writes_uvicorns_info_access_line(caplog):
    [line] = await _access_records(_access_app(None), caplog, logging.INFO)
    assert line.levelno == logging.INFO


async def test_an_access_line_asked_at_debug_is_not_written_at_info(caplog):
    assert await _access_records(_access_app(logging.DEBUG), caplog, logging.INFO) == []


async def test_an_error_asked_at_debug_keeps_its_info_access_line(caplog):
    [line] = await _access_records(_access_app(logging.DEBUG, status=500), caplog, logging.INFO)
    assert (line.levelno, line.getMessage().split(" - ")[1][-3:]) == (logging.INFO, "500")


async def test_an_access_line_asked_at_debug_is_uvicorns_line_at_debug(caplog):
    [asked] = await _access_records(_access_app(logging.DEBUG), caplog, logging.DEBUG)
    caplog.clear()
    [uvicorns] = await _access_records(_access_app(None), caplog, logging.DEBUG)
    assert asked.levelno == logging.DEBUG
    # The client's port differs from one connection to the next; the rest is uvicorn's.
    assert asked.getMessage().split(" - ")[1] == uvicorns.getMessage().split(" - ")[1]
    assert asked.getMessage().split(" - ")[1] == '"GET /v1/stream?ticket=T HTTP/1.1" 200'


async def _addresses_both_ways(serve) -> tuple[tuple, tuple]:
    """(uvicorn's local and remote address, the lean protocol's) of one accepted connection."""
    seen: asyncio.Future = asyncio.get_running_loop().create_future()

    class Accepting(asyncio.Protocol):
        def connection_made(self, transport):
            uvicorns = (get_local_addr(transport), get_remote_addr(transport))
            seen.set_result((uvicorns, (_local_address(transport), _remote_address(transport))))
            transport.close()

    await serve(Accepting)
    return await asyncio.wait_for(seen, 5)


# The notifier runs on uvloop (uvicorn's choice when it is installed); asyncio's own loop
# is uvicorn's otherwise. Their transports answer `get_extra_info` each in their own way.
LOOPS = pytest.mark.parametrize(
    "new_loop", [asyncio.new_event_loop, uvloop.new_event_loop], ids=["asyncio", "uvloop"]
)


@LOOPS
def test_a_tcp_connections_addresses_are_uvicorns(new_loop):
    async def serve(protocol):
        server = await asyncio.get_running_loop().create_server(protocol, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.close()

    with asyncio.Runner(loop_factory=new_loop) as runner:
        uvicorns, lean = runner.run(_addresses_both_ways(serve))
    assert lean == uvicorns
    assert lean[0][0] == "127.0.0.1"


@LOOPS
def test_a_unix_socket_connections_addresses_are_uvicorns(new_loop, tmp_path):
    path = str(tmp_path / "notifier.sock")

    async def serve(protocol):
        await asyncio.get_running_loop().create_unix_server(protocol, path)
        _, writer = await asyncio.open_unix_connection(path)
        writer.close()

    with asyncio.Runner(loop_factory=new_loop) as runner:
        uvicorns, lean = runner.run(_addresses_both_ways(serve))
    assert lean == uvicorns == ((path, None), None)


async def test_a_connections_flow_control_starts_writable_on_a_lean_event():
    protocol_made: asyncio.Future = asyncio.get_running_loop().create_future()

    class Recording(LeanHttpToolsProtocol):
        def connection_made(self, transport):
            super().connection_made(transport)
            protocol_made.set_result(self)

    async def app(scope, receive, send):
        return

    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, http=Recording, log_config=None, lifespan="off"
    )
    async with serving(uvicorn.Server(config)) as port:
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        protocol = await asyncio.wait_for(protocol_made, 5)
        writer.close()
    flow = protocol.flow
    assert type(flow._is_writable_event) is LeanEvent
    assert (flow.write_paused, flow.read_paused, flow._is_writable_event.is_set()) == (
        False,
        False,
        True,
    )
