"""A consumed Kafka record as Herald's code handles it, whichever client consumed it.

aiokafka, faust and the notifier's batch reader each have their own record type; the
processors, and the dead-letter publisher, take this one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


class KafkaRecord(Protocol):
    """What aiokafka's records have (its ConsumerRecord, and its batch parser's records)."""

    @property
    def offset(self) -> int: ...
    @property
    def key(self) -> bytes | None: ...
    @property
    def value(self) -> bytes | None: ...
    @property
    def headers(self) -> Sequence[tuple[str, bytes | None]]: ...


@dataclass(frozen=True, slots=True)
class ConsumedRecord:
    """Where a record came from, and its bytes as they were on the topic."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...] = ()

    @classmethod
    def from_kafka(cls, topic: str, partition: int, record: KafkaRecord) -> ConsumedRecord:
        """An aiokafka record of `topic`'s `partition` (the batch parser's records omit both)."""
        return cls(
            topic=topic,
            partition=partition,
            offset=record.offset,
            key=record.key,
            value=record.value,
            # The batch parser may hand header values over as bytearrays, and a header
            # without a value (Kafka allows one) as None: kept as an empty value, as the
            # inserter's faust records are (a None here once stopped a consumer for good).
            headers=tuple((k, b"" if v is None else bytes(v)) for k, v in record.headers),
        )
