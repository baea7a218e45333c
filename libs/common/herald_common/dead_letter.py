"""Dead-letter publishing: the original bytes, untouched, plus headers that say why."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

from herald_common.consumed import ConsumedRecord
from herald_common.settings import TopicSettings

logger = logging.getLogger(__name__)

HEADER_PREFIX = "herald.dlq."
# Added by the mailer to a completion it dead-letters for one manager's summary email.
MAILER_MANAGER_HEADER = "herald.mailer.manager-id"


def describe(error: BaseException | str) -> str:
    """A reason fit for a header: a rejection's own words, or the exception and its message."""
    text = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
    return text[:4000]


def dead_letter_headers(
    record: ConsumedRecord, error: BaseException | str
) -> list[tuple[str, bytes]]:
    error_type = "Rejected" if isinstance(error, str) else type(error).__name__
    ours = [
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

    def __init__(self, producer: RecordSender) -> None:
        self._producer = producer

    async def publish(self, record: ConsumedRecord, error: BaseException | str) -> None:
        topic = TopicSettings.dead_letter(record.topic)
        headers = dead_letter_headers(record, error)
        await self._producer.send_and_wait(
            topic, value=record.value, key=record.key, headers=headers
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
