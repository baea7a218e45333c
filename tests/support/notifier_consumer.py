"""The notifier's EventConsumer for unit tests: one voucher topic "v", progress topic "p",
and whatever fakes a test hands in for the parts it looks at."""

from __future__ import annotations

from typing import Any

from herald_notifier.domain.consumer import EventConsumer
from herald_notifier.domain.registry import Registry
from herald_notifier.metrics import NotifierMetrics


def event_consumer(
    consumer: Any,
    registry: Registry,
    *,
    dead_letters: Any = None,
    records: Any = None,
    max_record_bytes: int = 1 << 20,
) -> EventConsumer:
    return EventConsumer(
        consumer,
        employee_topics={"v": "herald.voucher.allocated"},
        progress_topic="p",
        registry=registry,
        dead_letters=dead_letters,
        metrics=NotifierMetrics(),
        records=records,
        max_record_bytes=max_record_bytes,
    )
