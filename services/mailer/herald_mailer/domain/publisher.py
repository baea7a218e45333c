"""The in-app side: each summary as a per-employee event on `herald.notification.pushed`.

Same shape as every per-employee event (id = notification id, type = kind, key = the
manager's department), so the notifier routes it to the manager's open streams.
"""

from __future__ import annotations

import asyncio

from aiokafka import AIOKafkaProducer

from herald_common.events import ALLOCATION_SUMMARY, CONTENT_TYPE, SOURCE_MAILER
from herald_common.notifications import notification_event
from herald_mailer.domain.store import InAppSummary

_HEADERS = [("content-type", CONTENT_TYPE.encode())]


class SummaryPublisher:
    def __init__(self, producer: AIOKafkaProducer, topic: str) -> None:
        self._producer = producer
        self._topic = topic

    async def publish(self, summaries: list[InAppSummary], kind: str = ALLOCATION_SUMMARY) -> None:
        """Send and wait until Kafka acknowledged every one (`kind`: their notifications')."""
        deliveries = [
            await self._producer.send(
                self._topic,
                key=s.department.encode(),
                value=notification_event(
                    notification_id=s.notification_id,
                    kind=kind,
                    source=SOURCE_MAILER,
                    employee_id=s.manager_id,
                    created_at=s.created_at,
                    payload=s.payload,
                ),
                headers=_HEADERS,
            )
            for s in summaries
        ]
        await asyncio.gather(*deliveries)
