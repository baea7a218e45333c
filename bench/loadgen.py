"""The load generator: thousands of open SSE streams held by one cheap process.

It must never be the bottleneck it measures, so it is built on raw asyncio protocols (on
uvloop when installed, as uvicorn uses) with a minimal HTTP/1.1 and SSE parser: the status
line, chunked transfer coding, and for each frame only its `id:` and `event:` fields. The
`data:` of a frame is never decoded.

The benchmark runs it as `python -m bench.loadgen CONFIG.json` and talks to it in JSON
lines: it prints `{"ready": ...}` once every stream is open (or failed), then answers each
command read from stdin with one line:

- `{"cmd": "arm", "per_stream": k, "total": n, "record": bool, "by_stream": bool}` opens a
  measurement window from now on: counting starts at zero for every stream. The window is
  complete once every stream that was open when it was armed received `k` events (if `k`
  is given) and at least `n` events arrived in all (if `n` is given).
- `{"cmd": "peek"}` answers with the open window's counts so far, leaving it open.
- `{"cmd": "wait", "timeout": s, "total": n}` answers when the window is complete or `s`
  seconds passed, with its figures: first and last receipt, the time the last stream got
  its k-th event, counts, (when `record`) every event id with its receipt time, and (when
  `by_stream`) each stream's event ids in arrival order, streams in the config's order,
  with the indexes of streams that closed: what a test needs to say, per client, what was
  lost, duplicated or out of order.
- `{"cmd": "stats"}`: open, failed and closed streams, CPU time, RSS.
- `{"cmd": "quit"}` closes every stream and exits.

Times are `time.time()` (the system's real-time clock), which the benchmark compares with
timestamps taken in other processes and in PostgreSQL on the same machine.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import resource
import sys
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

_HEAD_LIMIT = 64 * 1024
# The frame that ends a stream's opening (herald_common.stream_frames.UNREAD_COUNT; the
# load generator imports nothing of Herald's).
UNREAD_COUNT = b"unread-count"
# How each stream authenticates, as a browser would: a Bearer header (API clients), the
# session cookie, or a single-use ticket fetched just before (POST /v1/stream-tickets).
AUTH_KINDS = ("bearer", "cookie", "ticket")
SESSION_COOKIE = "herald_session"


def raise_open_files_limit() -> int:
    """Raise the soft limit on open files to the hard limit; returns the new soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


@dataclass
class Window:
    """What one measurement counts, from `arm` on."""

    per_stream: int | None
    total: int | None
    record: bool
    streams: int  # streams open when armed: each must reach per_stream
    armed_at: float
    cpu_at_arm: float
    received: int = 0
    complete_streams: int = 0
    first: float | None = None
    last: float | None = None
    all_streams_at: float | None = None
    ids: list[tuple[bytes, float]] = field(default_factory=list)
    done: asyncio.Event = field(default_factory=asyncio.Event)
    by_stream: bool = False

    def check(self) -> None:
        if self.per_stream is not None and self.complete_streams < self.streams:
            return
        if self.total is not None and self.received < self.total:
            return
        if self.per_stream is None and self.total is None:
            return
        self.done.set()


class Stream(asyncio.Protocol):
    """One SSE connection: request, status, de-chunking, and frame fields."""

    __slots__ = (
        "_buf",
        "_chunk_left",
        "_chunk_line",
        "_chunked",
        "_crlf_left",
        "_eol",
        "_frame_end",
        "_gen",
        "_head",
        "_request",
        "_transport",
        "closed",
        "error",
        "index",
        "last_id",
        "live",
        "live_at",
        "open",
        "ready",
        "retry_ms",
        "window_count",
        "window_ids",
    )

    def __init__(self, gen: LoadGenerator, request: bytes, index: int = 0) -> None:
        self._gen = gen
        self.index = index
        self.window_count = 0
        self.window_ids: list[bytes] = []
        # The newest `id:` and `retry:` the server sent: what a reconnect resumes from.
        self.last_id: bytes | None = None
        self.retry_ms: int | None = None
        self.restart(request)

    def restart(self, request: bytes) -> None:
        """Fresh connection state for `request` (a first connection or a reconnect)."""
        self._request = request
        self._transport: asyncio.Transport | None = None
        self._head: bytes | None = b""
        self._chunked = False
        self._chunk_left = 0
        self._crlf_left = 0
        self._chunk_line = b""
        self._buf = b""
        self._frame_end: bytes | None = None
        self._eol = b"\n"
        self.ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.open = False
        self.closed = False
        self.error: str | None = None
        # Live: the opening is over (replay sent, then the unread count): `event: unread-count`.
        self.live = False
        self.live_at: float | None = None

    # -- asyncio.Protocol ------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, but behave as one.
        self._transport = cast(asyncio.Transport, transport)
        self._transport.write(self._request)

    def connection_lost(self, exc: Exception | None) -> None:
        was_open = self.open
        self.open = False
        self.closed = True
        if self.error is None:
            self.error = f"connection closed ({exc!r})" if exc else "connection closed by server"
        if not self.ready.done():
            self.ready.set_result(None)
        self._gen.stream_closed(self, was_open)

    def _became_live(self, now: float) -> None:
        self.live = True
        self.live_at = now
        if self._gen.ready_on_live and not self.ready.done():
            self.ready.set_result(None)
        self._gen.stream_live(self)

    def data_received(self, data: bytes) -> None:
        now = time.time()
        if self._head is not None:
            data = self._read_head(data)
            if not data:
                return
        if self._chunked:
            data = self._dechunk(data)
            if not data:
                return
        if not self.open:
            # The first bytes of the body: the server has registered the stream.
            self.open = True
            if not self._gen.ready_on_live and not self.ready.done():
                self.ready.set_result(None)
        self._feed(data, now)

    # -- parsing ---------------------------------------------------------------------------

    def _fail(self, reason: str) -> None:
        self.error = reason
        if self._transport is not None:
            self._transport.close()

    def _read_head(self, data: bytes) -> bytes:
        assert self._head is not None
        head = self._head + data
        end = head.find(b"\r\n\r\n")
        if end < 0:
            if len(head) > _HEAD_LIMIT:
                self._fail("response head too large")
            self._head = head
            return b""
        self._head = None
        status_line, _, fields = head[:end].partition(b"\r\n")
        parts = status_line.split(b" ", 2)
        if len(parts) < 2 or parts[1] != b"200":
            self._fail(f"HTTP status {status_line.decode(errors='replace')}")
            return b""
        self._chunked = b"transfer-encoding: chunked" in fields.lower()
        return head[end + 4 :]

    def _dechunk(self, data: bytes) -> bytes:
        if self._chunk_line:
            data = self._chunk_line + data
            self._chunk_line = b""
        out: list[bytes] = []
        pos, size = 0, len(data)
        while pos < size:
            if self._chunk_left:
                take = min(self._chunk_left, size - pos)
                out.append(data[pos : pos + take])
                pos += take
                self._chunk_left -= take
                if not self._chunk_left:
                    self._crlf_left = 2
                continue
            if self._crlf_left:
                take = min(self._crlf_left, size - pos)
                pos += take
                self._crlf_left -= take
                continue
            eol = data.find(b"\r\n", pos)
            if eol < 0:
                self._chunk_line = data[pos:]
                break
            length = int(data[pos:eol].split(b";", 1)[0], 16)
            pos = eol + 2
            if length == 0:
                self._ended(b"".join(out))
                self._fail("stream ended by server")
                break
            self._chunk_left = length
        return b"".join(out)

    def _ended(self, tail: bytes) -> None:
        """The response ended: its last frame (the drain's farewell) may say `retry:`."""
        rest = self._buf + tail
        at = rest.rfind(b"retry:")
        if at >= 0:
            value = rest[at + 6 :].split(b"\n", 1)[0].strip()
            if value.isdigit():
                self.retry_ms = int(value)

    def _feed(self, data: bytes, now: float) -> None:
        buf = self._buf + data if self._buf else data
        if self._frame_end is None:
            # The first line ending says whether the server ends lines with CRLF or LF.
            newline = buf.find(b"\n")
            if newline < 0:
                self._buf = buf
                return
            crlf = newline > 0 and buf[newline - 1 : newline] == b"\r"
            self._eol = b"\r\n" if crlf else b"\n"
            self._frame_end = self._eol * 2
        frames = buf.split(self._frame_end)
        self._buf = frames.pop()
        gen = self._gen
        for frame in frames:
            if frame[:1] == b":" and self._eol not in frame:
                continue  # a comment alone: ping or hello
            event_id: bytes | None = None
            kind: bytes | None = None
            for line in frame.split(self._eol):
                first = line[:1]
                if first == b"i" and line[:3] == b"id:":
                    event_id = line[3:].strip()
                elif first == b"e" and line[:6] == b"event:":
                    kind = line[6:].strip()
                elif first == b"r" and line[:6] == b"retry:" and line[6:].strip().isdigit():
                    self.retry_ms = int(line[6:].strip())
            if event_id is not None:
                self.last_id = event_id
                if kind in gen.kinds:
                    gen.event(self, event_id, now)
            if kind == UNREAD_COUNT and not self.live:
                self._became_live(now)

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()


@dataclass
class Target:
    """One client: the port it opens its stream on, its token and how it presents it."""

    port: int
    token: str
    auth: str = "bearer"
    ticket: str | None = None


class LoadGenerator:
    def __init__(self, config: dict[str, Any]) -> None:
        self.host: str = config["host"]
        self.path: str = config.get("path", "/v1/stream")
        self.kinds = frozenset(k.encode() for k in config["kinds"])
        self.concurrency: int = config.get("concurrency", 200)
        self.connect_timeout: float = config.get("connect_timeout", 60.0)
        self.targets = [
            Target(t["port"], t["token"], t.get("auth", "bearer")) for t in config["streams"]
        ]
        # A stream counts as connected once live (its unread count arrived: Herald's
        # notifier), or at its first body bytes (any SSE server, the baseline's too).
        self.ready_on_live: bool = config.get("ready_on_live", False)
        # Where a stream the server ends goes next (after its `retry:`), resuming with
        # Last-Event-ID, as EventSource does: the other replica. None: it stays closed.
        self.reconnect_port: int | None = config.get("reconnect_port")
        self.streams: list[Stream] = []
        self.window: Window | None = None
        self.events_outside_windows = 0
        self.closed_while_open = 0
        self.tickets = TicketStats()
        self.storm = Storm()

    # -- callbacks from streams ----------------------------------------------------------

    def event(self, stream: Stream, event_id: bytes, now: float) -> None:
        window = self.window
        if window is None:
            self.events_outside_windows += 1
            return
        window.received += 1
        if window.first is None:
            window.first = now
        window.last = now
        if window.record:
            window.ids.append((event_id, now))
        if window.by_stream:
            stream.window_ids.append(event_id)
        stream.window_count += 1
        if stream.window_count == window.per_stream:
            window.complete_streams += 1
            if window.complete_streams == window.streams:
                window.all_streams_at = now
        if not window.done.is_set():
            window.check()

    def stream_closed(self, stream: Stream, was_open: bool) -> None:
        if was_open:
            self.closed_while_open += 1
        reconnecting = stream.index in self.storm.closed_at
        if (
            self.reconnect_port is not None
            and stream.error == "stream ended by server"
            and not reconnecting
        ):
            self.storm.closed(stream)
            asyncio.get_running_loop().create_task(self._reconnect(stream))

    def stream_live(self, stream: Stream) -> None:
        self.storm.live(stream)

    # -- connecting ------------------------------------------------------------------------

    def _request(self, target: Target, last_id: bytes | None = None) -> bytes:
        path, auth = self.path, ""
        if target.auth == "ticket":
            path = f"{path}?ticket={target.ticket}"
        elif target.auth == "cookie":
            auth = f"Cookie: {SESSION_COOKIE}={target.token}\r\n"
        else:
            auth = f"Authorization: Bearer {target.token}\r\n"
        resume = "" if last_id is None else f"Last-Event-ID: {last_id.decode()}\r\n"
        return (
            f"GET {path} HTTP/1.1\r\n"
            f"Host: {self.host}:{target.port}\r\n"
            f"{auth}{resume}"
            "Accept: text/event-stream\r\n"
            "Cache-Control: no-cache\r\n"
            "\r\n"
        ).encode()

    async def fetch_ticket(self, target: Target) -> None:
        """POST /v1/stream-tickets with the Bearer token, as the browser does before a
        stream (one connection each, closed after: the page's fetch)."""
        started = time.time()
        try:
            async with asyncio.timeout(self.connect_timeout):
                answer = await self._post_ticket(target)
        except TimeoutError as exc:
            raise OSError("no ticket in time") from exc
        head, _, body = answer.partition(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 201"):
            status = head.split(b"\r\n", 1)[0].decode(errors="replace")
            raise OSError(f"ticket refused: {status}")
        target.ticket = json.loads(body)["ticket"]
        self.tickets.fetched(time.time() - started)

    async def _post_ticket(self, target: Target) -> bytes:
        reader, writer = await asyncio.open_connection(self.host, target.port)
        try:
            writer.write(
                (
                    "POST /v1/stream-tickets HTTP/1.1\r\n"
                    f"Host: {self.host}:{target.port}\r\n"
                    f"Authorization: Bearer {target.token}\r\n"
                    "Content-Length: 0\r\nConnection: close\r\n\r\n"
                ).encode()
            )
            return await reader.read()
        finally:
            writer.close()

    async def fetch_tickets(self) -> dict[str, Any]:
        """Every ticket client's ticket, before the streams open (the `opens` scenario
        measures the tickets and the opens apart)."""
        limit = asyncio.Semaphore(self.concurrency)
        started = time.time()

        async def one(target: Target) -> None:
            async with limit:
                try:
                    await self.fetch_ticket(target)
                except OSError as exc:
                    self.tickets.failed(repr(exc))

        await asyncio.gather(*(one(t) for t in self.targets if t.auth == "ticket"))
        return {"tickets": self.tickets.summary(), "seconds": time.time() - started}

    async def _open(self, stream: Stream, target: Target) -> None:
        loop = asyncio.get_running_loop()
        try:
            await loop.create_connection(lambda: stream, self.host, target.port)
        except OSError as exc:
            stream.error = f"connect failed: {exc!r}"
            stream.closed = True
            if not stream.ready.done():
                stream.ready.set_result(None)
            return
        try:
            await asyncio.wait_for(asyncio.shield(stream.ready), self.connect_timeout)
        except TimeoutError:
            stream._fail("no response in time")

    async def connect(self) -> dict[str, Any]:
        limit = asyncio.Semaphore(self.concurrency)
        started = time.time()

        async def one(index: int, target: Target) -> None:
            # Before the first await: gather starts these in order, so `streams` keeps the
            # config's order (which `by_stream` answers in).
            stream = Stream(self, b"", index)
            self.streams.append(stream)
            async with limit:
                if target.auth == "ticket" and target.ticket is None:
                    try:
                        await self.fetch_ticket(target)
                    except OSError as exc:
                        stream.error = f"ticket failed: {exc!r}"
                        stream.closed = True
                        return
                stream.restart(self._request(target))
                await self._open(stream, target)

        await asyncio.gather(*(one(i, t) for i, t in enumerate(self.targets)))
        live_at = [s.live_at for s in self.streams if s.live_at is not None]
        return {
            "ready": True,
            "requested": len(self.targets),
            "open": sum(1 for s in self.streams if s.open),
            "live": len(live_at),
            "with_id": sum(1 for s in self.streams if s.last_id is not None),
            "failed": sum(1 for s in self.streams if not s.open),
            "errors": _error_sample(self.streams),
            "started": started,
            "last_live": max(live_at) if live_at else None,
            "connect_seconds": time.time() - started,
            "by_auth": {
                kind: sum(1 for t in self.targets if t.auth == kind) for kind in AUTH_KINDS
            },
        }

    async def _reconnect(self, stream: Stream) -> None:
        """After the server ended the stream: wait its `retry:`, then open again on the
        other replica with Last-Event-ID (a ticket client first fetches a new ticket there).
        A try that fails (refused, timed out, an error status) is tried again after the
        same wait, as EventSource does after a network error."""
        assert self.reconnect_port is not None
        old = self.targets[stream.index]
        target = Target(self.reconnect_port, old.token, old.auth)
        self.targets[stream.index] = target
        last_id = stream.last_id
        while self.reconnect_port is not None:
            await asyncio.sleep((stream.retry_ms or 0) / 1000)
            self.storm.attempts += 1
            try:
                if target.auth == "ticket":
                    await self.fetch_ticket(target)
            except OSError as exc:
                self.storm.failed(repr(exc))
                continue
            stream.restart(self._request(target, last_id))
            await self._open(stream, target)
            if stream.live:
                return
            self.storm.failed(stream.error or "not live")
            stream.close()

    # -- commands --------------------------------------------------------------------------

    def arm(
        self, per_stream: int | None, total: int | None, record: bool, by_stream: bool = False
    ) -> dict[str, Any]:
        # The streams and their buffers live on for the whole window: moved out of the
        # collector's way, so a pass here does not delay a receipt being timed (a full pass
        # over 10,000 connections takes tens of ms).
        gc.collect()
        gc.freeze()
        for stream in self.streams:
            stream.window_count = 0
            stream.window_ids = []
        open_streams = sum(1 for s in self.streams if s.open)
        self.window = Window(
            per_stream=per_stream,
            total=total,
            record=record,
            streams=open_streams,
            armed_at=time.time(),
            cpu_at_arm=_cpu_seconds(),
            by_stream=by_stream,
        )
        return {"armed": self.window.armed_at, "streams": open_streams}

    async def wait(self, timeout: float, total: int | None) -> dict[str, Any]:
        window = self.window
        if window is None:
            return {"error": "not armed"}
        if total is not None:
            window.total = total
        window.check()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(window.done.wait(), timeout)
        result: dict[str, Any] = {
            "complete": window.done.is_set(),
            "received": window.received,
            "streams": window.streams,
            "complete_streams": window.complete_streams,
            "armed_at": window.armed_at,
            "first": window.first,
            "last": window.last,
            "all_streams_at": window.all_streams_at,
            "cpu_seconds": _cpu_seconds() - window.cpu_at_arm,
            "open": sum(1 for s in self.streams if s.open),
            "closed_while_open": self.closed_while_open,
        }
        if window.record:
            result["ids"] = [[event_id.decode(), at] for event_id, at in window.ids]
        if window.by_stream:
            result["by_stream"] = [[i.decode() for i in s.window_ids] for s in self.streams]
            result["closed_streams"] = [n for n, s in enumerate(self.streams) if s.closed]
        self.window = None
        return result

    def peek(self) -> dict[str, Any]:
        window = self.window
        if window is None:
            return {"error": "not armed"}
        return {
            "received": window.received,
            "complete_streams": window.complete_streams,
            "open": sum(1 for s in self.streams if s.open),
            "cpu_seconds": _cpu_seconds() - window.cpu_at_arm,
        }

    def stats(self) -> dict[str, Any]:
        return {
            "open": sum(1 for s in self.streams if s.open),
            "failed_or_closed": sum(1 for s in self.streams if not s.open),
            "closed_while_open": self.closed_while_open,
            "errors": _error_sample(self.streams),
            "cpu_seconds": _cpu_seconds(),
            "rss_bytes": _rss_bytes(),
        }

    async def await_storm(self, timeout: float) -> dict[str, Any]:
        """Once the server ended the streams (a drain): when every one is live again."""
        storm = self.storm
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(storm.done.wait(), timeout)
        return storm.summary(len(self.streams))

    def close(self) -> None:
        self.reconnect_port = None
        for stream in self.streams:
            stream.close()


@dataclass
class TicketStats:
    count: int = 0
    seconds: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)

    def fetched(self, seconds: float) -> None:
        self.count += 1
        self.seconds.append(seconds)

    def failed(self, reason: str) -> None:
        self.errors[reason] = self.errors.get(reason, 0) + 1

    def summary(self) -> dict[str, Any]:
        ordered = sorted(self.seconds)
        return {
            "fetched": self.count,
            "failed": sum(self.errors.values()),
            "errors": dict(sorted(self.errors.items(), key=lambda kv: -kv[1])[:5]),
            "median_seconds": ordered[len(ordered) // 2] if ordered else None,
        }


@dataclass
class Storm:
    """Streams the server ended, and their way back: closed, then live again elsewhere."""

    closed_at: dict[int, float] = field(default_factory=dict)
    live_again_at: dict[int, float] = field(default_factory=dict)
    retry_ms: list[int] = field(default_factory=list)
    attempts: int = 0
    failures: dict[str, int] = field(default_factory=dict)
    done: asyncio.Event = field(default_factory=asyncio.Event)

    def failed(self, reason: str) -> None:
        self.failures[reason] = self.failures.get(reason, 0) + 1

    def closed(self, stream: Stream) -> None:
        self.closed_at.setdefault(stream.index, time.time())
        self.retry_ms.append(stream.retry_ms or 0)

    def live(self, stream: Stream) -> None:
        if stream.index in self.closed_at and stream.index not in self.live_again_at:
            self.live_again_at[stream.index] = stream.live_at or time.time()
            if len(self.live_again_at) == len(self.closed_at):
                self.done.set()

    def summary(self, streams: int) -> dict[str, Any]:
        closed, live = self.closed_at.values(), self.live_again_at.values()
        return {
            "streams": streams,
            "ended_by_server": len(self.closed_at),
            "live_again": len(self.live_again_at),
            "complete": len(self.live_again_at) == len(self.closed_at) == streams,
            "first_closed": min(closed, default=None),
            "last_closed": max(closed, default=None),
            "first_live_again": min(live, default=None),
            "last_live_again": max(live, default=None),
            "retry_ms_max": max(self.retry_ms, default=None),
            "retry_ms_min": min(self.retry_ms, default=None),
            "reconnect_attempts": self.attempts,
            "reconnect_failures": self.failures,
            "cpu_seconds": _cpu_seconds(),
        }


def _error_sample(streams: list[Stream]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for stream in streams:
        if not stream.open and stream.error:
            counts[stream.error] = counts.get(stream.error, 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: -kv[1])[:5])


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _rss_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def _say(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message, separators=(",", ":")) + "\n")
    sys.stdout.flush()


async def commands(reader: asyncio.StreamReader) -> AsyncIterator[dict[str, Any]]:
    """The benchmark's commands, one JSON line each, until it goes away (stdin closes)."""
    while True:
        line = await reader.readline()
        if not line:
            return
        command: dict[str, Any] = json.loads(line)
        yield command


async def serve(config: dict[str, Any]) -> None:
    loop = asyncio.get_running_loop()
    gen = LoadGenerator(config)
    reader = asyncio.StreamReader(limit=1 << 20)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    if config.get("tickets_first"):
        # Tickets now; the streams once the benchmark says `go` (it reads the server's CPU
        # in between, so the opens are measured without the tickets).
        _say(await gen.fetch_tickets())
        if not await reader.readline():
            return
    _say(await gen.connect())
    try:
        async for command in commands(reader):
            name = command.get("cmd")
            if name == "arm":
                _say(
                    gen.arm(
                        command.get("per_stream"),
                        command.get("total"),
                        command.get("record", False),
                        command.get("by_stream", False),
                    )
                )
            elif name == "peek":
                _say(gen.peek())
            elif name == "wait":
                _say(await gen.wait(float(command.get("timeout", 60)), command.get("total")))
            elif name == "storm":
                _say(await gen.await_storm(float(command.get("timeout", 120))))
            elif name == "stats":
                _say(gen.stats())
            elif name == "quit":
                _say({"bye": True})
                return
            else:
                _say({"error": f"unknown command {name!r}"})
    finally:
        gen.close()


def event_loop_name() -> str:
    try:
        import uvloop  # noqa: F401
    except ImportError:
        return "asyncio"
    return "uvloop"


def run_with_config(
    serve_config: Callable[[dict[str, Any]], Coroutine[Any, Any, None]],
) -> None:
    """A load generator's entry point: its config from argv[1], on uvloop when installed."""
    raise_open_files_limit()
    config = json.loads(Path(sys.argv[1]).read_text())
    if event_loop_name() == "uvloop":
        import uvloop

        uvloop.run(serve_config(config))
    else:
        asyncio.run(serve_config(config))


def main() -> None:
    run_with_config(serve)


if __name__ == "__main__":
    main()
