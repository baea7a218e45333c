"""The fan-out floor's delivery step: what it writes, and how many writes."""

from __future__ import annotations

import asyncio
from typing import NamedTuple, cast

import jwt

from bench.floor_notifier import StreamProtocol, Streams, deliver
from herald_common.consumed import KafkaRecord
from herald_common.routing import EMPLOYEE_ID_HEADER, NOTIFICATION_ID_HEADER

EVENT = b"herald.voucher.allocated"


class Record(NamedTuple):
    offset: int
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes | None]]


class FakeTransport:
    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.writes.append(data)

    def close(self) -> None:
        self.closed = True


def record(event_id: int, employee: str, value: bytes = b'{"x":1}') -> KafkaRecord:
    headers: list[tuple[str, bytes | None]] = [
        (NOTIFICATION_ID_HEADER, str(event_id).encode()),
        (EMPLOYEE_ID_HEADER, employee.encode()),
    ]
    return Record(event_id, b"Sales", value, headers)


def streams_of(**transports: FakeTransport) -> Streams:
    return {name: [cast(asyncio.Transport, t)] for name, t in transports.items()}


def test_an_employees_events_of_one_batch_go_out_in_one_write() -> None:
    alice = FakeTransport()
    delivered = deliver(streams_of(alice=alice), EVENT, [record(1, "alice"), record(2, "alice")])
    assert delivered == 2
    assert alice.writes == [
        b'id: 1\nevent: herald.voucher.allocated\ndata: {"x":1}\n\n'
        b'id: 2\nevent: herald.voucher.allocated\ndata: {"x":1}\n\n'
    ]


def test_an_event_reaches_only_its_employees_streams() -> None:
    alice, bob = FakeTransport(), FakeTransport()
    deliver(streams_of(alice=alice, bob=bob), EVENT, [record(1, "bob")])
    assert (alice.writes, len(bob.writes)) == ([], 1)


def test_an_event_without_a_stream_here_is_not_counted() -> None:
    assert deliver(streams_of(alice=FakeTransport()), EVENT, [record(1, "carol")]) == 0


def test_a_record_without_routing_headers_is_passed_over() -> None:
    alice = FakeTransport()
    bare = Record(1, b"Sales", b"{}", [])
    assert deliver(streams_of(alice=alice), EVENT, [bare]) == 0
    assert alice.writes == []


def test_two_streams_of_one_employee_each_get_the_events() -> None:
    first, second = FakeTransport(), FakeTransport()
    streams: Streams = {"alice": [cast(asyncio.Transport, first), cast(asyncio.Transport, second)]}
    assert deliver(streams, EVENT, [record(1, "alice")]) == 2
    assert len(first.writes) == len(second.writes) == 1


SECRET = "a-test-secret-of-at-least-32-bytes!!"


def opened(streams: Streams, request: bytes) -> tuple[StreamProtocol, FakeTransport]:
    ready = asyncio.Event()
    ready.set()
    protocol = StreamProtocol(streams, SECRET, ready)
    transport = FakeTransport()
    protocol.connection_made(cast(asyncio.Transport, transport))
    protocol.data_received(request)
    return protocol, transport


def bearer(employee: str) -> bytes:
    token = jwt.encode(
        {"sub": employee, "aud": "herald", "iss": "herald"}, SECRET, algorithm="HS256"
    )
    return b"GET /v1/stream HTTP/1.1\r\nauthorization: Bearer %b\r\n\r\n" % token.encode()


def test_a_stream_opened_with_a_token_is_held_until_its_connection_ends() -> None:
    streams: Streams = {}
    protocol, transport = opened(streams, bearer("alice"))
    assert transport.writes[0].startswith(b"HTTP/1.1 200 OK")
    assert list(streams) == ["alice"]
    protocol.connection_lost(None)
    assert streams == {}


def test_a_stream_without_a_valid_token_is_refused() -> None:
    streams: Streams = {}
    _, transport = opened(streams, b"GET /v1/stream HTTP/1.1\r\nauthorization: Bearer x\r\n\r\n")
    assert (transport.writes[0].split(b"\r\n")[0], transport.closed) == (
        b"HTTP/1.1 401 Unauthorized",
        True,
    )
    assert streams == {}
