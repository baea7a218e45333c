"""A small SSE client for tests: parses frames per the WHATWG rules we rely on."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx


@dataclass
class Frame:
    event: str | None = None
    id: str | None = None
    data: str = ""
    retry: int | None = None
    comment: str | None = None
    dispatched: bool = True

    def json(self) -> Any:
        return json.loads(self.data)


async def sse_lines(response: httpx.Response) -> AsyncIterator[str]:
    """Lines as the SSE spec defines them: ended by CRLF, LF or CR, and nothing else.

    (httpx's aiter_lines also splits on U+2028 and friends, as str.splitlines does.)
    """
    buffer = b""
    async for chunk in response.aiter_bytes():
        buffer += chunk
        while True:
            cr, lf = buffer.find(b"\r"), buffer.find(b"\n")
            ends = [i for i in (cr, lf) if i >= 0]
            if not ends:
                break
            end = min(ends)
            if buffer[end : end + 1] == b"\r":
                if end + 1 == len(buffer):
                    break  # a CR at the end may be the first half of CRLF
                step = 2 if buffer[end + 1 : end + 2] == b"\n" else 1
            else:
                step = 1
            yield buffer[:end].decode()
            buffer = buffer[end + step :]


async def frames(response: httpx.Response) -> AsyncIterator[Frame]:
    """Events and comments. As in a browser, a frame without `data:` is not an event, but
    an `id:` in it still moves the last event id: it comes out with `dispatched` false."""
    current = Frame()
    data_lines: list[str] = []
    async for line in sse_lines(response):
        if line == "":
            if data_lines:
                current.data = "\n".join(data_lines)
                yield current
            elif current.id is not None:
                yield Frame(id=current.id, dispatched=False)
            current, data_lines = Frame(), []
            continue
        if line.startswith(":"):
            yield Frame(comment=line[1:].strip())
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "data":
            data_lines.append(value)
        elif name == "event":
            current.event = value
        elif name == "id":
            current.id = value
        elif name == "retry" and value.isdigit():
            current.retry = int(value)


@dataclass
class StreamRecorder:
    """Holds one open stream and records every event frame it receives."""

    client: httpx.AsyncClient
    url: str
    params: dict[str, str]
    headers: dict[str, str] = field(default_factory=dict)
    events: list[Frame] = field(default_factory=list)
    connected: asyncio.Event = field(default_factory=asyncio.Event)
    status: int | None = None
    response_headers: httpx.Headers | None = None
    # What an EventSource would send as Last-Event-ID on reconnect.
    last_event_id: str | None = None
    _task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        async with self.client.stream(
            "GET", self.url, params=self.params, headers=self.headers, timeout=None
        ) as response:
            self.status = response.status_code
            self.response_headers = response.headers
            if response.status_code != 200:
                self.connected.set()
                return
            async for frame in frames(response):
                if frame.id is not None:
                    self.last_event_id = frame.id
                if frame.comment is not None:
                    self.connected.set()
                elif frame.dispatched:
                    self.events.append(frame)

    async def open(self, timeout: float = 10) -> StreamRecorder:
        self._task = asyncio.create_task(self._run())
        await asyncio.wait_for(self.connected.wait(), timeout)
        return self

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    @property
    def notifications(self) -> list[Frame]:
        """Inbox items: the frames that carry an id (unread counts and progress do not)."""
        return [f for f in self.events if f.id is not None]

    def of_type(self, event: str) -> list[Frame]:
        return [f for f in self.events if f.event == event]

    @property
    def unread(self) -> int | None:
        counts = self.of_type("unread-count")
        return counts[-1].json()["unread"] if counts else None

    async def until(self, condition, timeout: float = 30, what: str = "condition") -> None:
        async def reached() -> None:
            while not condition():
                if self._task is not None and self._task.done():
                    raise AssertionError(f"stream ended before {what}; got {self.events}")
                await asyncio.sleep(0.05)

        await asyncio.wait_for(reached(), timeout)

    async def wait_for(self, count: int, timeout: float = 30) -> list[Frame]:
        """Wait until `count` notifications arrived; returns them."""
        await self.until(
            lambda: len(self.notifications) >= count, timeout, f"{count} notifications"
        )
        return self.notifications


async def open_stream(
    client: httpx.AsyncClient, notifier_url: str, headers: dict[str, str]
) -> StreamRecorder:
    """A caller's own stream (no extra channels), open and recording."""
    return await StreamRecorder(client, f"{notifier_url}/v1/stream", {}, headers=headers).open()
