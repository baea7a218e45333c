"""The opens floor: the least a Python stream server on this stack does per stream open.

What any notifier built on uvloop and psycopg must do to open an employee's stream with
Herald's guarantees, and nothing more:
- read the request head (no HTTP framework: a bare `asyncio.Protocol`, one `find` and one
  `split`; no header other than the credential's is looked at);
- find who is asking: the Bearer header, the session cookie, or a single-use ticket issued
  by `POST /v1/stream-tickets` (kept in a dict, taken once); tokens checked by Herald's own
  HS256 decoder (`herald_common.auth.hs256`, the cheapest check there is);
- one read of PostgreSQL per turn of the event loop for every open of that turn, one
  statement for all, batched by the notifier's own `Batched` (the employee's department,
  newest notification id and unread count: Herald needs them to route, resume and count);
- the head and the opening (`id:` of the newest notification, then the unread count) in one
  `transport.write`; the transport kept, by employee, until the client goes.

No ASGI, no scope or request objects, no chunked coding, no replay after a Last-Event-ID,
no registry of streams beyond a dict, no access line, no metrics, no drain, no limits on
streams per employee, no expiry of the token's stream. `opens` runs it with the same clients
as Herald's notifier, so that Herald's CPU per open has this beside it, measured in the
same run: the part of Herald's figure this machine and these libraries allow at best.

    HERALD_AUTH_HS256_SECRET=... HERALD_DATABASE_URL=... python -m bench.floor_opens --port P
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
from collections.abc import Iterable, Sequence
from typing import cast
from urllib.parse import parse_qs

import psycopg
import uvloop
from jwt import PyJWTError
from psycopg import sql

from bench.http_head import HeadProtocol
from bench.hub_arguments import floor_arguments
from bench.loadgen import SESSION_COOKIE, raise_open_files_limit
from herald_common.auth.hs256 import Hs256Decoder
from herald_common.auth.settings import AuthSettings
from herald_common.auth.tokens import REQUIRED_CLAIMS
from herald_common.notifications import UNREAD
from herald_common.stream_frames import UNREAD_COUNT
from herald_notifier.domain.batched import Batched

_STREAM_HEAD = (
    b"HTTP/1.1 200 OK\r\n"
    b"content-type: text/event-stream; charset=utf-8\r\n"
    b"cache-control: no-cache\r\n"
    b"connection: close\r\n\r\n"
)
_READY = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok"
_REFUSED = b"HTTP/1.1 401 Unauthorized\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
_UNAVAILABLE = b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
_UNKNOWN = b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
_COOKIE_PREFIX = SESSION_COOKIE.encode() + b"="

# One row per opening stream, in order: Herald's two opening reads in one statement.
_START = sql.SQL(
    "SELECT e.department,"
    " coalesce((SELECT max(n.id) FROM notifications_per_employee n"
    "   WHERE n.employee_id = s.employee), 0),"
    " (SELECT count(*) FROM notifications_per_employee"
    "   WHERE employee_id = s.employee AND {unread})"
    " FROM unnest(%s::text[]) WITH ORDINALITY AS s(employee, at)"
    " LEFT JOIN employees e ON e.id = s.employee"
    " ORDER BY s.at"
).format(unread=UNREAD)

Streams = dict[str, list[asyncio.Transport]]
# What an opening reads: the department (None: not in the directory), newest id, unread.
Start = tuple[object, ...]


def opening(latest: object, unread: object) -> bytes:
    """A stream's first frames: the newest notification's id, then the unread count."""
    count = json.dumps({"count": unread, "as_of": latest}).encode()
    return b": connected\nid: %d\nretry: 3000\n\nevent: %b\ndata: %b\n\n" % (
        cast(int, latest),
        UNREAD_COUNT.encode(),
        count,
    )


class Opener:
    """What every connection shares: the token check, the tickets, and the batched read of
    PostgreSQL (`bench/floor_opens_asgi.py` uses it too)."""

    def __init__(self, conn: psycopg.AsyncConnection[tuple[object, ...]], secret: str) -> None:
        self._conn = conn
        auth = AuthSettings()  # the audience, issuer and leeway Herald checks by default
        self._tokens = Hs256Decoder(
            secret,
            audience=auth.audience,
            issuer=auth.issuer,
            leeway=auth.leeway_seconds,
            require=REQUIRED_CLAIMS,
        )
        self.tickets: dict[str, str] = {}
        self._starts_batched: Batched[str, Start] = Batched(self._starts)

    def employee(self, token: bytes) -> str | None:
        try:
            return str(self._tokens.decode(token.decode())["sub"])
        except (PyJWTError, UnicodeDecodeError, KeyError):
            return None

    def credential(self, headers: Iterable[tuple[bytes, bytes]]) -> str | None:
        """The employee of the Bearer header or of the session cookie (names lower-case)."""
        for name, value in headers:
            if name == b"authorization":
                scheme, _, token = value.strip().partition(b" ")
                return self.employee(token) if scheme.lower() == b"bearer" else None
            if name == b"cookie":
                for cookie in value.split(b";"):
                    cookie = cookie.strip()
                    if cookie.startswith(_COOKIE_PREFIX):
                        return self.employee(cookie[len(_COOKIE_PREFIX) :])
        return None

    def issue(self, employee: str) -> bytes:
        """A single-use ticket for `employee`, as the JSON body that carries it."""
        ticket = secrets.token_urlsafe(24)
        self.tickets[ticket] = employee
        return b'{"ticket":"%b","expires_in":30}' % ticket.encode()

    def redeem(self, query: bytes) -> str | None:
        ticket = parse_qs(query.decode()).get("ticket", [""])[0]
        return self.tickets.pop(ticket, None)

    def start(self, employee: str) -> asyncio.Future[Start]:
        """Where the employee's stream starts, read with the turn's other openings, as
        Herald's notifier batches its reads (a read per open would cost each its own round
        trip)."""
        return self._starts_batched.submit(employee)

    async def _starts(self, employees: Sequence[str]) -> list[Start]:
        async with self._conn.cursor() as cursor:
            await cursor.execute(_START, (list(employees),))
            return await cursor.fetchall()


class OpenProtocol(HeadProtocol):
    """One connection: a request head, then `/readyz`, a ticket, or a stream kept open."""

    def __init__(self, opener: Opener, streams: Streams) -> None:
        self._opener = opener
        self._streams = streams
        super().__init__()
        self._employee: str | None = None

    def request(self, transport: asyncio.Transport, request_line: bytes, fields: bytes) -> None:
        method, _, rest = request_line.partition(b" ")
        target = rest.rpartition(b" ")[0]
        path, _, query = target.partition(b"?")
        if path == b"/readyz":
            transport.write(_READY)
            transport.close()
        elif method == b"POST" and path == b"/v1/stream-tickets":
            self._ticket(transport, fields)
        elif method == b"GET" and path == b"/v1/stream":
            self._stream(transport, fields, query)
        else:
            transport.write(_UNKNOWN)
            transport.close()

    def _ticket(self, transport: asyncio.Transport, fields: bytes) -> None:
        employee = self._opener.credential(_headers(fields))
        if employee is None:
            transport.write(_REFUSED)
        else:
            body = self._opener.issue(employee)
            transport.write(
                b"HTTP/1.1 201 Created\r\ncontent-type: application/json\r\n"
                b"content-length: %d\r\nconnection: close\r\n\r\n%b" % (len(body), body)
            )
        transport.close()

    def _stream(self, transport: asyncio.Transport, fields: bytes, query: bytes) -> None:
        opener = self._opener
        employee = opener.redeem(query) if query else opener.credential(_headers(fields))
        if employee is None:
            transport.write(_REFUSED)
            transport.close()
            return
        self._employee = employee
        opener.start(employee).add_done_callback(self._opened)

    def _opened(self, started: asyncio.Future[Start]) -> None:
        failed = started.exception()
        transport, employee = self._transport, self._employee
        if transport is None or employee is None or transport.is_closing():
            return
        if failed is not None:
            transport.write(_UNAVAILABLE)
            transport.close()
            return
        department, latest, unread = started.result()
        if department is None:
            transport.write(_UNKNOWN)
            transport.close()
            return
        self._streams.setdefault(employee, []).append(transport)
        transport.write(_STREAM_HEAD + opening(latest, unread))

    def connection_lost(self, exc: Exception | None) -> None:
        employee, transport = self._employee, self._transport
        if employee is None or transport is None:
            return
        own = self._streams.get(employee)
        if own is not None:
            with contextlib.suppress(ValueError):
                own.remove(transport)
            if not own:
                del self._streams[employee]


def _headers(fields: bytes) -> Iterable[tuple[bytes, bytes]]:
    for line in fields.split(b"\r\n"):
        name, _, value = line.partition(b":")
        yield name.strip().lower(), value


async def serve(host: str, port: int, database_url: str, secret: str) -> None:
    conn = await psycopg.AsyncConnection.connect(
        database_url, autocommit=True, application_name="bench-floor-opens"
    )
    opener = Opener(conn, secret)
    streams: Streams = {}
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: OpenProtocol(opener, streams), host, port, backlog=4096
    )
    # Ended by SIGTERM, like the notifier under the benchmark (the sockets close with it).
    async with conn, server:
        await server.serve_forever()


def main() -> None:
    args = floor_arguments(__doc__)
    raise_open_files_limit()
    database_url, secret = os.environ["HERALD_DATABASE_URL"], os.environ["HERALD_AUTH_HS256_SECRET"]
    uvloop.run(serve(args.host, args.port, database_url, secret))


if __name__ == "__main__":
    main()
