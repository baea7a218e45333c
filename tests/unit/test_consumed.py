"""One ConsumedRecord from whichever aiokafka record the mailer and the notifier consume."""

from __future__ import annotations

from dataclasses import dataclass

from aiokafka import ConsumerRecord

from herald_common.consumed import ConsumedRecord


@dataclass
class ParsedRecord:
    """Like the batch parser's records: no topic or partition, headers maybe bytearrays."""

    offset: int
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytearray]]


def test_a_consumer_record_keeps_where_it_came_from_and_its_bytes():
    record = ConsumerRecord(
        topic="herald.allocation.completed",
        partition=2,
        offset=41,
        timestamp=0,
        timestamp_type=0,
        key=b"k",
        value=b"{}",
        checksum=None,
        serialized_key_size=1,
        serialized_value_size=2,
        headers=[("trace", b"abc")],
    )
    assert ConsumedRecord.from_kafka(record.topic, record.partition, record) == ConsumedRecord(
        "herald.allocation.completed", 2, 41, b"k", b"{}", (("trace", b"abc"),)
    )


def test_a_parsed_record_takes_its_partition_and_gets_bytes_headers():
    record = ParsedRecord(7, None, None, [("herald.previous-id", bytearray(b"12"))])
    consumed = ConsumedRecord.from_kafka("herald.voucher.allocated", 5, record)
    assert consumed == ConsumedRecord(
        "herald.voucher.allocated", 5, 7, None, None, (("herald.previous-id", b"12"),)
    )
    assert type(consumed.headers[0][1]) is bytes
