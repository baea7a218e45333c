"""Dead-letter publishing: the original bytes, untouched, plus headers that say why.

Except for a value larger than the consumer reads (`HERALD_KAFKA_MAX_RECORD_BYTES`): the
dead letter goes without it, since it might not fit in a request or on the dead-letter
topic, and a dead letter that cannot be sent would hold up its consumer for good. Its
headers say how large it was and where it stays (the original topic, partition and offset,
until that topic's retention ends).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Final, Protocol

from herald_common.consumed import ConsumedRecord
from herald_common.settings import TopicSettings

logger = logging.getLogger(__name__)

HEADER_PREFIX: Final = "herald.dlq."
# Added by the mailer to a completion it dead-letters for one manager's summary email.
MAILER_MANAGER_HEADER = "herald.mailer.manager-id"


def describe(error: BaseException | str) -> str:
    """A reason fit for a header: a rejection's own words, or the exception and its message."""
    text = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
    return text[:4000]


def dead_letter_headers(
    record: ConsumedRecord, error: BaseException | str, *, value_omitted: bool = False
) -> list[tuple[str, bytes]]:
    error_type = "Rejected" if isinstance(error, str) else type(error).__name__
    omitted = [("value-omitted-bytes", str(len(record.value or b"")))] if value_omitted else []
    ours = [
        *omitted,
        ("reason", describe(error)),
        ("error-type", error_type),
        ("original-topic", record.topic),
        ("original-partition", str(record.partition)),
        ("original-offset", str(record.offset)),
        ("failed-at", datetime.now(UTC).isoformat()),
    ]
    return [*record.headers, *((HEADER_PREFIX + k, v.encode()) for k, v in ours)]


class RecordSender(Protocol):
    """What a dead-letter publisher needs of a producer (aiokafka's, or a wrapper of it)."""

    async def send_and_wait(
        self,
        topic: str,
        value: bytes | None = None,
        key: bytes | None = None,
        partition: int | None = None,
        timestamp_ms: int | None = None,
        headers: Sequence[tuple[str, bytes]] | None = None,
    ) -> Any: ...


class DeadLetterPublisher:
    """Sends records that cannot be processed to `<topic>.dlq`, so the consumer moves on."""

    def __init__(self, producer: RecordSender, max_value_bytes: int) -> None:
        self._producer = producer
        self._max_value_bytes = max_value_bytes

    async def publish(self, record: ConsumedRecord, error: BaseException | str) -> None:
        topic = TopicSettings.dead_letter(record.topic)
        omit = record.value is not None and len(record.value) > self._max_value_bytes
        headers = dead_letter_headers(record, error, value_omitted=omit)
        await self._producer.send_and_wait(
            topic, value=None if omit else record.value, key=record.key, headers=headers
        )
        logger.warning(
            "dead-lettered %s[%d]@%d: %s",
            record.topic,
            record.partition,
            record.offset,
            describe(error),
            extra={
                "topic": record.topic,
                "partition": record.partition,
                "offset": record.offset,
                "dead_letter_topic": topic,
            },
        )
