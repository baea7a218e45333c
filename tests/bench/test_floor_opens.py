"""The opens floor's request handling: who is asking, tickets, and the opening it writes."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any, cast

import jwt
import pytest
from pydantic import SecretStr

from bench.floor_opens import Opener, OpenProtocol, Start, Streams
from herald_common.auth.settings import AuthSettings
from herald_common.auth.tokens import mint_token
from tests.bench import test_loadgen as loadgen_tests

SECRET = "floor-test-secret-of-enough-length-for-hs256"


class FakeTransport(loadgen_tests.FakeTransport):
    def is_closing(self) -> bool:
        return self.closed


class TableOpener(Opener):
    """The floor's opener, its PostgreSQL read answered from a table: (department, newest
    id, unread) by employee, None for one not in the directory."""

    def __init__(self, rows: dict[str, tuple[object, ...]]) -> None:
        super().__init__(cast(Any, None), SECRET)
        self.rows = rows
        self.reads: list[list[str]] = []
        self.streams: Streams = {}

    async def _starts(self, employees: Sequence[str]) -> list[Start]:
        self.reads.append(list(employees))
        return [self.rows.get(e, (None, 0, 0)) for e in employees]


def token(subject: str) -> str:
    settings = AuthSettings(hs256_secret=SecretStr(SECRET))
    return mint_token(settings, subject=subject, roles=["employee"], ttl_seconds=600)


def connect(opener: TableOpener) -> tuple[OpenProtocol, FakeTransport]:
    protocol, transport = OpenProtocol(opener, opener.streams), FakeTransport()
    protocol.connection_made(cast(asyncio.Transport, transport))
    return protocol, transport


def request(method: str, target: str, *fields: str) -> bytes:
    return (
        f"{method} {target} HTTP/1.1\r\nHost: x\r\n" + "".join(f + "\r\n" for f in fields) + "\r\n"
    ).encode()


async def settle() -> None:
    for _ in range(3):
        await asyncio.sleep(0)


async def test_a_bearer_stream_opens_with_the_newest_id_and_the_unread_count() -> None:
    opener = TableOpener({"alice": ("Sales", 42, 3)})
    protocol, transport = connect(opener)
    protocol.data_received(request("GET", "/v1/stream", f"Authorization: Bearer {token('alice')}"))
    await settle()
    assert transport.written.startswith(b"HTTP/1.1 200 OK\r\n")
    assert transport.written.endswith(
        b"\r\n\r\n: connected\nid: 42\nretry: 3000\n\n"
        b'event: unread-count\ndata: {"count": 3, "as_of": 42}\n\n'
    )
    assert opener.streams == {"alice": [transport]}


async def test_the_session_cookie_is_a_credential_too() -> None:
    opener = TableOpener({"bob": ("HR", 1, 0)})
    protocol, transport = connect(opener)
    protocol.data_received(
        request("GET", "/v1/stream", f"Cookie: theme=dark; herald_session={token('bob')}")
    )
    await settle()
    assert b"id: 1\n" in transport.written


async def test_a_request_split_across_reads_is_read_whole() -> None:
    opener = TableOpener({"alice": ("Sales", 7, 0)})
    protocol, transport = connect(opener)
    whole = request("GET", "/v1/stream", f"Authorization: Bearer {token('alice')}")
    protocol.data_received(whole[:20])
    protocol.data_received(whole[20:])
    await settle()
    assert b"id: 7\n" in transport.written


async def test_no_credential_is_refused() -> None:
    protocol, transport = connect(TableOpener({}))
    protocol.data_received(request("GET", "/v1/stream"))
    assert transport.written.startswith(b"HTTP/1.1 401")
    assert transport.closed


async def test_a_token_signed_with_another_secret_is_refused() -> None:
    forged = jwt.encode({"sub": "alice", "aud": "herald", "iss": "herald", "exp": 2**40}, "x" * 40)
    protocol, transport = connect(TableOpener({"alice": ("Sales", 1, 0)}))
    protocol.data_received(request("GET", "/v1/stream", f"Authorization: Bearer {forged}"))
    assert transport.written.startswith(b"HTTP/1.1 401")


async def test_a_ticket_opens_one_stream_only() -> None:
    opener = TableOpener({"carol": ("Ops", 5, 1)})
    protocol, answer = connect(opener)
    protocol.data_received(
        request("POST", "/v1/stream-tickets", f"Authorization: Bearer {token('carol')}")
    )
    assert answer.written.startswith(b"HTTP/1.1 201 Created\r\n")
    ticket = answer.written.split(b'"ticket":"')[1].split(b'"')[0].decode()
    first, opened = connect(opener)
    first.data_received(request("GET", f"/v1/stream?ticket={ticket}"))
    second, refused = connect(opener)
    second.data_received(request("GET", f"/v1/stream?ticket={ticket}"))
    await settle()
    assert b"id: 5\n" in opened.written
    assert refused.written.startswith(b"HTTP/1.1 401")


async def test_an_employee_not_in_the_directory_gets_404() -> None:
    protocol, transport = connect(TableOpener({}))
    protocol.data_received(request("GET", "/v1/stream", f"Authorization: Bearer {token('zed')}"))
    await settle()
    assert transport.written.startswith(b"HTTP/1.1 404")


async def test_the_opens_of_one_turn_share_one_read() -> None:
    opener = TableOpener({"alice": ("Sales", 1, 0), "bob": ("HR", 2, 0)})
    for name in ("alice", "bob"):
        protocol, _ = connect(opener)
        protocol.data_received(request("GET", "/v1/stream", f"Authorization: Bearer {token(name)}"))
    await settle()
    assert opener.reads == [["alice", "bob"]]


async def test_a_closed_stream_leaves_the_streams() -> None:
    opener = TableOpener({"alice": ("Sales", 1, 0)})
    protocol, _ = connect(opener)
    protocol.data_received(request("GET", "/v1/stream", f"Authorization: Bearer {token('alice')}"))
    await settle()
    protocol.connection_lost(None)
    assert opener.streams == {}


@pytest.mark.parametrize("target", ["/v1/other", "/readyz"])
async def test_other_paths_are_answered_and_closed(target: str) -> None:
    protocol, transport = connect(TableOpener({}))
    protocol.data_received(request("GET", target))
    assert transport.closed


async def test_a_head_past_the_limit_closes_the_connection() -> None:
    protocol, transport = connect(TableOpener({}))
    protocol.data_received(b"GET /v1/stream HTTP/1.1\r\nX: " + b"a" * 20_000)
    assert (transport.closed, transport.written) == (True, b"")


class FailingOpener(TableOpener):
    async def _starts(self, employees: Sequence[str]) -> list[Start]:
        raise OSError("the database is gone")


async def test_a_failed_read_answers_503_rather_than_leaving_the_client_waiting() -> None:
    protocol, transport = connect(FailingOpener({}))
    protocol.data_received(request("GET", "/v1/stream", f"Authorization: Bearer {token('al')}"))
    await settle()
    assert transport.written.startswith(b"HTTP/1.1 503")
    assert transport.closed
