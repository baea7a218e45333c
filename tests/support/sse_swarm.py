"""Hundreds of SSE clients on plain asyncio sockets, each behaving like a browser's EventSource.

httpx costs too much per connection to hold 500 streams next to the services on one
machine; this client speaks just enough HTTP/1.1 (one GET, chunked or close-delimited
body) and SSE (WHATWG line rules, `id:` tracking). Like EventSource it reconnects after the
server's `retry:` delay whenever the stream ends or the connection fails, sending the last
event id it has seen as `Last-Event-ID`.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

_RECONNECT_ERRORS = (OSError, asyncio.IncompleteReadError, ValueError)


@dataclass
class SwarmClient:
    employee: str
    authorization: str
    # Notification ids (frames with data and an id), in arrival order, over every connection.
    ids: list[int] = field(default_factory=list)
    last_event_id: str | None = None
    connects: list[float] = field(default_factory=list)  # when each stream opened
    retry_seconds: float = 0.5
    opened: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def duplicates(self) -> int:
        return len(self.ids) - len(set(self.ids))

    @property
    def in_order(self) -> bool:
        return all(a < b for a, b in zip(self.ids, self.ids[1:], strict=False))


class Swarm:
    def __init__(self, host: str, port: int, clients: list[SwarmClient]) -> None:
        self._host, self._port = host, port
        self.clients = clients
        self._tasks: list[asyncio.Task[None]] = []

    async def __aenter__(self) -> Swarm:
        self._tasks = [asyncio.create_task(self._keep_open(c)) for c in self.clients]
        return self

    async def __aexit__(self, *exc: object) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _keep_open(self, client: SwarmClient) -> None:
        while True:
            with contextlib.suppress(_RECONNECT_ERRORS):
                await self._stream(client)
            await asyncio.sleep(client.retry_seconds)

    async def _stream(self, client: SwarmClient) -> None:
        reader, writer = await asyncio.open_connection(self._host, self._port)
        try:
            lines = [
                "GET /v1/stream HTTP/1.1",
                f"Host: {self._host}:{self._port}",
                "Accept: text/event-stream",
                "Cache-Control: no-cache",
                f"Authorization: {client.authorization}",
            ]
            if client.last_event_id is not None:
                lines.append(f"Last-Event-ID: {client.last_event_id}")
            writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
            await writer.drain()
            status = (await reader.readline()).split(b" ")
            if len(status) < 2 or status[1] != b"200":
                raise ValueError(f"stream answered {b' '.join(status)!r}")
            chunked = False
            while (header := await reader.readline()) not in (b"\r\n", b"\n", b""):
                name, _, value = header.decode("latin-1").partition(":")
                if name.strip().lower() == "transfer-encoding" and "chunked" in value.lower():
                    chunked = True
            client.connects.append(time.monotonic())
            await self._events(client, _body(reader, chunked))
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _events(self, client: SwarmClient, body: AsyncIterator[bytes]) -> None:
        buffer = b""
        frame_id: str | None = None
        data = False
        async for chunk in body:
            buffer += chunk
            *complete, buffer = buffer.split(b"\n")
            for raw in complete:
                line = raw.removesuffix(b"\r").decode()
                if line == "":
                    if frame_id is not None:
                        client.last_event_id = frame_id
                        if data:
                            client.ids.append(int(frame_id))
                    frame_id, data = None, False
                elif line.startswith(":"):
                    client.opened.set()
                else:
                    name, _, value = line.partition(":")
                    value = value.removeprefix(" ")
                    if name == "id":
                        frame_id = value
                    elif name == "data":
                        data = True
                    elif name == "retry" and value.isdigit():
                        client.retry_seconds = int(value) / 1000


async def _body(reader: asyncio.StreamReader, chunked: bool) -> AsyncIterator[bytes]:
    if not chunked:
        while chunk := await reader.read(65536):
            yield chunk
        return
    while True:
        size = int((await reader.readline()).split(b";")[0].strip() or b"0", 16)
        if size == 0:
            return
        yield await reader.readexactly(size)
        await reader.readexactly(2)
