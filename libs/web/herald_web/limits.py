"""Request limits: body size (413) and per-caller rates (429 with Retry-After)."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodySizeLimit:
    """ASGI middleware: refuse bodies above a per-path limit with 413, before reading them.

    Content-Length is checked up front; chunked bodies are counted as they arrive, and
    the read that passes the limit raises a 413 HTTPException: FastAPI turns any other
    error while parsing a body into 400, but hands an HTTPException to its handler.
    """

    def __init__(self, app: ASGIApp, limit_for: Callable[[str], int]) -> None:
        self.app = app
        self.limit_for = limit_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        for name, value in scope["headers"]:
            if name == b"content-length" and value.isdigit() and int(value) > limit:
                await _too_large(send, limit)
                return
        received = 0
        response_started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _BodyTooLarge(limit)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except _BodyTooLarge:
            if not response_started:
                await _too_large(send, limit)


def _too_large_detail(limit: int) -> str:
    return f"request body larger than {limit} bytes"


class _BodyTooLarge(HTTPException):
    """Answered by the app's HTTPException handler, or here when it reaches the middleware."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, detail=_too_large_detail(limit))


async def _too_large(send: Send, limit: int) -> None:
    body = json.dumps({"detail": _too_large_detail(limit)}, separators=(",", ":")).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """A token bucket per caller, in this process (each replica limits on its own)."""

    def __init__(self, per_minute: int, burst: int | None = None) -> None:
        self.rate = per_minute / 60.0
        self.capacity = float(burst if burst is not None else per_minute)
        self._buckets: dict[str, _Bucket] = {}

    def retry_after(self, caller: str, now: float | None = None) -> int | None:
        """Take one token; None if allowed, else the whole seconds to wait."""
        now = time.monotonic() if now is None else now
        bucket = self._buckets.get(caller)
        if bucket is None:
            bucket = self._buckets[caller] = _Bucket(self.capacity, now)
        bucket.tokens = min(self.capacity, bucket.tokens + (now - bucket.updated) * self.rate)
        bucket.updated = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return None
        return max(1, math.ceil((1 - bucket.tokens) / self.rate))

    def check(self, caller: str) -> None:
        wait = self.retry_after(caller)
        if wait is not None:
            raise HTTPException(
                429, detail="too many requests; retry later", headers={"Retry-After": str(wait)}
            )
