"""The opens floor behind uvicorn: the same answers as the bare floor, as ASGI messages."""

from __future__ import annotations

from typing import Any

from bench.floor_opens_asgi import FloorApp
from tests.bench.test_floor_opens import TableOpener, token


def scope(method: str, path: str, query: bytes = b"", **headers: str) -> dict[str, Any]:
    return {
        "type": "http",
        "method": method,
        "path": path,
        "query_string": query,
        "headers": [(k.encode(), v.encode()) for k, v in headers.items()],
    }


async def answer(app: FloorApp, opener: TableOpener, request: dict[str, Any]) -> list[Any]:
    return await app._respond(opener, request)


async def test_a_stream_starts_with_its_opening_and_stays_open() -> None:
    app, opener = FloorApp("", ""), TableOpener({"alice": ("Sales", 9, 2)})
    request = scope("GET", "/v1/stream", authorization=f"Bearer {token('alice')}")
    start, body = await answer(app, opener, request)
    assert start["status"] == 200
    assert body["more_body"] is True
    assert b"id: 9\n" in body["body"]
    assert request["floor.streaming"] is True


async def test_a_ticket_is_issued_and_then_opens_a_stream() -> None:
    app, opener = FloorApp("", ""), TableOpener({"bob": ("HR", 3, 0)})
    issued = scope("POST", "/v1/stream-tickets", authorization=f"Bearer {token('bob')}")
    start, body = await answer(app, opener, issued)
    ticket = body["body"].split(b'"ticket":"')[1].split(b'"')[0]
    opened = await answer(app, opener, scope("GET", "/v1/stream", b"ticket=" + ticket))
    assert (start["status"], opened[0]["status"]) == (201, 200)


async def test_a_stream_without_a_credential_is_refused() -> None:
    app, opener = FloorApp("", ""), TableOpener({})
    start, _ = await answer(app, opener, request := scope("GET", "/v1/stream"))
    assert start["status"] == 401
    assert "floor.streaming" not in request
