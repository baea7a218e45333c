"""What every consumer checks before decoding a record, and records no decoder foresaw."""

from __future__ import annotations

import json

import pytest
from aiokafka import TopicPartition

from herald_common.consumed import ConsumedRecord
from herald_common.notifications import parse_previous_id
from herald_common.record_checks import (
    checked_headers,
    header_problem,
    oversized,
    record_problem,
)
from herald_notifier.domain.delivery import Delivery
from herald_notifier.domain.registry import Registry
from herald_notifier.domain.subscriber import Subscriber
from tests.support.dead_letters import RecordedClaims
from tests.support.notifier_consumer import Record, event_consumer


def test_a_value_larger_than_the_limit_is_named_with_both_sizes() -> None:
    reason = oversized(b"x" * 2049, 2048)
    assert reason is not None
    assert "2,049 bytes" in reason
    assert "2,048" in reason
    assert "HERALD_KAFKA_MAX_RECORD_BYTES" in reason


def test_a_value_at_the_limit_is_accepted() -> None:
    assert oversized(b"x" * 2048, 2048) is None
    assert oversized(None, 2048) is None


def test_a_herald_header_given_twice_makes_no_sense() -> None:
    headers = [("herald.notification-id", b"7"), ("herald.notification-id", b"8")]
    assert header_problem(headers) == "header herald.notification-id appears more than once"


def test_a_herald_header_without_a_value_makes_no_sense() -> None:
    assert (
        header_problem([("herald.employee-id", None)]) == "header herald.employee-id has no value"
    )


def test_a_herald_header_with_an_empty_value_is_found_as_it_is() -> None:
    headers = [("herald.visibility", b""), ("herald.employee-id", b"E1")]
    assert checked_headers(headers) == (
        {"herald.visibility": b"", "herald.employee-id": b"E1"},
        None,
    )


def test_other_headers_and_dead_letter_history_are_left_alone() -> None:
    headers = [
        ("origin", b"a"),
        ("origin", None),
        ("herald.dlq.reason", b"first time"),
        ("herald.dlq.reason", b"second time"),
        ("herald.employee-id", b"E1"),
    ]
    assert header_problem(headers) is None


def test_the_size_is_checked_before_the_headers() -> None:
    reason = record_problem(b"x" * 11, [("herald.a", None)], 10)
    assert reason is not None
    assert reason.startswith("record value is 11 bytes")


def test_a_header_without_a_value_is_consumed_as_an_empty_one() -> None:
    record = ConsumedRecord.from_kafka("t", 0, Record(3, None, b"v", [("trace", None)]))
    assert record.headers == (("trace", b""),)


def test_a_previous_id_header_without_a_value_names_no_id() -> None:
    assert parse_previous_id([("herald.previous-id", None)]) is None


def _event(event_id: str, employee: str) -> bytes:
    return json.dumps(
        {
            "specversion": "1.0",
            "id": event_id,
            "source": "/test",
            "type": "herald.voucher.allocated",
            "data": {"employee_id": employee, "department": "D"},
        }
    ).encode()


class _Stop(Exception):
    pass


class _Batches:
    def __init__(self, *batches: list[tuple[TopicPartition, list[Record]]]) -> None:
        self._batches = list(batches)

    async def get(self, wait_seconds: float) -> list[tuple[TopicPartition, list[Record]]]:
        if not self._batches:
            raise _Stop
        return self._batches.pop(0)


class _Seen:
    """A registry with one stream, employee E1's of department D: what reached it."""

    def __init__(self) -> None:
        self.registry = Registry()
        self._stream = Subscriber("E1", "D", capacity=100)
        self.registry.add(self._stream)

    @property
    def seen(self) -> list[Delivery]:
        return self._stream.pending


class _NoLag:
    def assignment(self) -> set[TopicPartition]:
        return set()


async def _consume(
    tp: TopicPartition, records: list[Record], max_bytes: int
) -> tuple[_Seen, RecordedClaims]:
    """One notifier consumer run over one fetch: what it dispatched and dead-lettered."""
    seen, claims = _Seen(), RecordedClaims()
    consumer = event_consumer(
        _NoLag(), seen.registry, dead_letters=claims, records=_Batches([(tp, records)]),
        max_record_bytes=max_bytes,
    )  # fmt: skip
    with pytest.raises(_Stop):
        await consumer.run()
    return seen, claims


async def test_a_record_no_decoder_foresaw_is_dead_lettered_and_the_next_is_dispatched() -> None:
    # An id of 5,000 digits passes the digits check, then int() refuses it (Python's limit
    # on digits): a ValueError no decoder catches. It once ended the consumer's run.
    tp = TopicPartition("v", 0)
    records = [
        Record(10, b"D", _event("9" * 5000, "E1"), []),
        Record(11, b"D", _event("12", "E1"), []),
    ]
    registry, claims = await _consume(tp, records, 1 << 20)
    ((record, reason),) = claims.sent
    assert record.offset == 10
    assert reason.startswith("ValueError: ")
    assert [d.event_id for d in registry.seen] == [12]


async def test_the_notifier_rejects_an_oversized_record_and_reads_on() -> None:
    tp = TopicPartition("v", 0)
    big = _event("5", "E1")[:-1] + b', "pad": "' + b"x" * 200 + b'"}'
    records = [Record(1, b"D", big, []), Record(2, b"D", _event("6", "E1"), [])]
    registry, claims = await _consume(tp, records, 200)
    ((record, reason),) = claims.sent
    assert record.offset == 1
    assert reason.startswith(f"record value is {len(big)} bytes")
    assert [d.event_id for d in registry.seen] == [6]


def test_headers_that_make_sense_come_back_by_name() -> None:
    headers = [("content-type", b"application/json"), ("herald.employee-id", b"E1")]
    found, problem = checked_headers(headers)
    assert problem is None
    assert found["herald.employee-id"] == b"E1"


def test_herald_headers_come_back_by_name_beside_a_repeated_other_header() -> None:
    headers = [("origin", b"a"), ("origin", b"b"), ("herald.employee-id", b"E1")]
    found, problem = checked_headers(headers)
    assert problem is None
    assert found == {"herald.employee-id": b"E1"}
