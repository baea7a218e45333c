"""The WebSocket load generator: thousands of Pusher sockets held by one cheap process.

Like bench/loadgen.py for SSE, it must never be the bottleneck it measures: raw asyncio
protocols (uvloop when installed), a minimal RFC 6455 client (the upgrade, unmasked server
frames, masked client frames with a zero key, no extensions) and a Pusher client reduced to
what the measurement needs: on `pusher:connection_established` it subscribes to its
employee's `private-employee-<id>` with the signature the app's backend would make, it
answers `pusher:ping` with `pusher:pong` (which confirms deliveries, 0057) and WebSocket
pings with pongs, and it counts the notifications (`"event":"herald.voucher.allocated"`)
without decoding them.

`python -m bench.ws_loadgen CONFIG.json` prints `{"ready": ...}` once every socket is
subscribed (or failed), then answers the same JSON-line commands as bench/loadgen.py
(`arm`, `wait`, `stats`, `quit`).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import struct
import sys
import time
from typing import Any

from bench.loadgen import Window, _cpu_seconds, _rss_bytes, _say, run_with_config
from herald_common.auth import channel_auth

_NOTIFICATION = b'"event":"herald.voucher.allocated"'
_PING = b'"event":"pusher:ping"'


def _frame(opcode: int, payload: bytes) -> bytes:
    """A client frame: FIN, masked with a zero key (XOR leaves the payload as it is)."""
    size = len(payload)
    if size < 126:
        head = struct.pack("!BB", 0x80 | opcode, 0x80 | size)
    elif size < 65536:
        head = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, size)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, size)
    return head + b"\x00\x00\x00\x00" + payload


class Socket(asyncio.Protocol):
    def __init__(self, gen: WsLoadGenerator, employee_id: str) -> None:
        self._gen = gen
        self._channel = f"private-employee-{employee_id}"
        self._transport: asyncio.Transport | None = None
        self._buf = b""
        self._upgraded = False
        self.subscribed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.open = False
        self.error: str | None = None
        self.window_count = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]
        key = base64.b64encode(os.urandom(16)).decode()
        gen = self._gen
        self._send_raw(
            (
                f"GET /app/{gen.key}?protocol=7 HTTP/1.1\r\nHost: {gen.host}:{gen.port}\r\n"
                "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )

    def _send_raw(self, data: bytes) -> None:
        if self._transport is not None and not self._transport.is_closing():
            self._transport.write(data)

    def _send(self, event: str, data: dict[str, Any]) -> None:
        self._send_raw(_frame(0x1, json.dumps({"event": event, "data": data}).encode()))

    def data_received(self, data: bytes) -> None:
        self._buf += data
        if not self._upgraded:
            end = self._buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head, self._buf = self._buf[:end], self._buf[end + 4 :]
            if not head.startswith(b"HTTP/1.1 101"):
                self._fail(head.split(b"\r\n", 1)[0].decode(errors="replace"))
                return
            self._upgraded = True
        self._frames()

    def _frames(self) -> None:
        buf = self._buf
        pos = 0
        while len(buf) - pos >= 2:
            opcode, size = buf[pos] & 0x0F, buf[pos + 1] & 0x7F
            start = pos + 2
            if size == 126:
                if len(buf) - pos < 4:
                    break
                size, start = struct.unpack_from("!H", buf, pos + 2)[0], pos + 4
            elif size == 127:
                if len(buf) - pos < 10:
                    break
                size, start = struct.unpack_from("!Q", buf, pos + 2)[0], pos + 10
            if len(buf) - start < size:
                break
            self._message(opcode, buf[start : start + size])
            pos = start + size
        self._buf = buf[pos:]

    def _message(self, opcode: int, payload: bytes) -> None:
        if opcode == 0x9:  # a WebSocket ping: pong with its payload
            self._send_raw(_frame(0xA, payload))
        elif opcode == 0x8:
            self._fail(f"closed {struct.unpack('!H', payload[:2])[0] if payload else ''}")
        elif _NOTIFICATION in payload:
            self._gen.received(self)
        elif _PING in payload:
            self._send("pusher:pong", {})
        elif b"connection_established" in payload:
            socket_id = json.loads(json.loads(payload)["data"])["socket_id"]
            auth = channel_auth.sign(self._gen.key, self._gen.secret, socket_id, self._channel)
            self._send("pusher:subscribe", {"channel": self._channel, "auth": auth})
        elif b"subscription_succeeded" in payload and not self.subscribed.done():
            self.open = True
            self.subscribed.set_result(None)

    def _fail(self, error: str) -> None:
        if self.open:
            self._gen.closed_while_open += 1
        self.open = False
        self.error = self.error or error
        if not self.subscribed.done():
            self.subscribed.set_result(None)
        if self._transport is not None:
            self._transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail(f"connection lost: {exc!r}")

    def close(self) -> None:
        if self._transport is not None:
            self._send_raw(_frame(0x8, struct.pack("!H", 1000)))
            self._transport.close()


class WsLoadGenerator:
    def __init__(self, config: dict[str, Any]) -> None:
        self.host: str = config["host"]
        self.port: int = config["port"]
        self.key: str = config["key"]
        self.secret: str = config["secret"]
        self.employees: list[str] = config["employees"]
        self.concurrency: int = config.get("concurrency", 200)
        self.sockets: list[Socket] = []
        self.window: Window | None = None
        self.closed_while_open = 0

    async def connect(self) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        limit = asyncio.Semaphore(self.concurrency)
        started = time.time()

        async def one(employee_id: str) -> None:
            socket = Socket(self, employee_id)
            self.sockets.append(socket)
            async with limit:
                try:
                    await loop.create_connection(lambda: socket, self.host, self.port)
                    await asyncio.wait_for(asyncio.shield(socket.subscribed), 120)
                except (OSError, TimeoutError) as exc:
                    socket._fail(f"connect failed: {exc!r}")

        await asyncio.gather(*(one(employee) for employee in self.employees))
        return {"ready": True, "connect_seconds": time.time() - started, **self.stats()}

    def received(self, socket: Socket) -> None:
        window = self.window
        if window is None:
            return
        now = time.time()
        window.received += 1
        window.first = window.first or now
        window.last = now
        socket.window_count += 1
        if socket.window_count == window.per_stream:
            window.complete_streams += 1
            if window.complete_streams == window.streams:
                window.all_streams_at = now
        window.check()

    def arm(self, per_stream: int | None, total: int | None) -> dict[str, Any]:
        for socket in self.sockets:
            socket.window_count = 0
        streams = sum(1 for s in self.sockets if s.open)
        self.window = Window(per_stream, total, False, streams, time.time(), _cpu_seconds())
        return {"armed": self.window.armed_at, "streams": streams}

    async def wait(self, timeout: float) -> dict[str, Any]:
        window = self.window
        if window is None:
            return {"error": "not armed"}
        window.check()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(window.done.wait(), timeout)
        self.window = None
        return {
            "complete": window.done.is_set(),
            "received": window.received,
            "streams": window.streams,
            "complete_streams": window.complete_streams,
            "first": window.first,
            "last": window.last,
            "cpu_seconds": _cpu_seconds() - window.cpu_at_arm,
            "closed_while_open": self.closed_while_open,
        }

    def stats(self) -> dict[str, Any]:
        errors: dict[str, int] = {}
        for socket in self.sockets:
            if not socket.open and socket.error:
                errors[socket.error] = errors.get(socket.error, 0) + 1
        return {
            "open": sum(1 for s in self.sockets if s.open),
            "failed_or_closed": sum(1 for s in self.sockets if not s.open),
            "closed_while_open": self.closed_while_open,
            "errors": dict(sorted(errors.items(), key=lambda kv: -kv[1])[:5]),
            "rss_bytes": _rss_bytes(),
        }


async def serve(config: dict[str, Any]) -> None:
    loop = asyncio.get_running_loop()
    gen = WsLoadGenerator(config)
    _say(await gen.connect())
    reader = asyncio.StreamReader(limit=1 << 20)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    try:
        while line := await reader.readline():
            command = json.loads(line)
            name = command.get("cmd")
            if name == "arm":
                _say(gen.arm(command.get("per_stream"), command.get("total")))
            elif name == "wait":
                _say(await gen.wait(float(command.get("timeout", 60))))
            elif name == "stats":
                _say(gen.stats())
            elif name == "quit":
                _say({"bye": True})
                return
    finally:
        for socket in gen.sockets:
            socket.close()


def main() -> None:
    run_with_config(serve)


if __name__ == "__main__":
    main()
