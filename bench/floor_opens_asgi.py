"""The opens floor's work behind uvicorn: what the server framework adds to an open.

The same work per open as `bench/floor_opens.py` (the token check, the cookie or a ticket,
one batched read of PostgreSQL, the head and the opening in one write, nothing else), as an
ASGI app served by uvicorn the way Herald's notifier is served: uvloop, httptools and the
notifier's lean protocol (`herald_notifier.compat.LeanHttpToolsProtocol`), the collector
tuned as the notifier tunes it, each stream's request kept until the client goes. No
access line (Herald's costs 19 µs, measured alone: docs/decisions/0090).

Between the two floors lies what uvicorn's connection and request handling cost an open;
between this one and Herald's notifier, what Herald's own open does beyond the least.

    HERALD_AUTH_HS256_SECRET=... HERALD_DATABASE_URL=... python -m bench.floor_opens_asgi --port P
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

import psycopg
import uvicorn

from bench.floor_opens import Opener, opening
from bench.hub_arguments import floor_arguments
from bench.loadgen import raise_open_files_limit
from herald_common.gc_tuning import SurvivorsFrozen
from herald_common.logs import configure_logging
from herald_notifier.compat import LeanHttpToolsProtocol

_STREAM_HEADERS = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-cache"),
]


def _answer(status: int, body: bytes = b"", close: bool = False) -> list[dict[str, Any]]:
    headers = [(b"content-length", b"%d" % len(body))]
    if close:
        headers.append((b"connection", b"close"))
    return [
        {"type": "http.response.start", "status": status, "headers": headers},
        {"type": "http.response.body", "body": body},
    ]


class FloorApp:
    def __init__(self, database_url: str, secret: str) -> None:
        self._database_url = database_url
        self._secret = secret
        self._opener: Opener | None = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        opener = self._opener
        assert opener is not None
        for message in await self._respond(opener, scope):
            await send(message)
        if scope.get("floor.streaming"):
            # The stream's request stays until the client goes, as Herald's does.
            while (await receive())["type"] != "http.disconnect":
                pass

    async def _respond(self, opener: Opener, scope: Any) -> list[dict[str, Any]]:
        path, method = scope["path"], scope["method"]
        if path == "/readyz":
            return _answer(200, b"ok")
        if method == "POST" and path == "/v1/stream-tickets":
            employee = opener.credential(scope["headers"])
            if employee is None:
                return _answer(401, close=True)
            return _answer(201, opener.issue(employee), close=True)
        if method != "GET" or path != "/v1/stream":
            return _answer(404)
        query = scope["query_string"]
        employee = opener.redeem(query) if query else opener.credential(scope["headers"])
        if employee is None:
            return _answer(401)
        department, latest, unread = await opener.start(employee)
        if department is None:
            return _answer(404)
        scope["floor.streaming"] = True
        return [
            {"type": "http.response.start", "status": 200, "headers": _STREAM_HEADERS},
            {"type": "http.response.body", "body": opening(latest, unread), "more_body": True},
        ]

    async def _lifespan(self, receive: Any, send: Any) -> None:
        collector = SurvivorsFrozen()
        async with await psycopg.AsyncConnection.connect(
            self._database_url, autocommit=True, application_name="bench-floor-opens-asgi"
        ) as conn:
            await receive()  # lifespan.startup
            self._opener = Opener(conn, self._secret)
            # The collector as the notifier runs it: a floor should not carry what the
            # tuned service does not (many objects per connection, walked by every pass).
            collector.install()
            collecting = asyncio.create_task(collector.run())
            await send({"type": "lifespan.startup.complete"})
            await receive()  # lifespan.shutdown
            collecting.cancel()
            collector.uninstall()
        await send({"type": "lifespan.shutdown.complete"})


def main() -> None:
    args = floor_arguments(__doc__)
    raise_open_files_limit()
    configure_logging("warning")
    app = FloorApp(os.environ["HERALD_DATABASE_URL"], os.environ["HERALD_AUTH_HS256_SECRET"])
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        loop="uvloop",
        http=LeanHttpToolsProtocol,
        access_log=False,
        log_config=None,
        backlog=4096,
    )


if __name__ == "__main__":
    main()
