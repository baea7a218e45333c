"""The fan-out floor's delivery step: what it writes, and how many writes."""

from __future__ import annotations

import asyncio
from typing import NamedTuple, cast

from bench.floor_notifier import Streams, deliver
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

    def write(self, data: bytes) -> None:
        self.writes.append(data)


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
