"""One generic push, end to end: write inbox rows, publish one event per employee.

The events go out in one Kafka transaction, so a push becomes visible whole or not at all;
the rows are written inside it, committed before it.
"""

from __future__ import annotations

import logging
import time

from herald_common.events import NOTIFICATION_PUSHED, SOURCE_PUSH, NotificationRequested
from herald_common.retry import outlast_outages
from herald_inserter.domain.processing import RequestProcessor
from herald_inserter.domain.push_store import PushStore, push_visibility

logger = logging.getLogger(__name__)


class PushProcessor(RequestProcessor[PushStore]):
    async def process(self, request: NotificationRequested, source: str = "") -> None:
        started = time.perf_counter()
        # Written inside the Kafka transaction, as allocation chunks are: the shared
        # producer runs one transaction at a time, so ids drawn by the other agent are
        # published before or after these, never in between (api.requests_topic).
        async with self._publisher.transaction():
            outcome = await self._store.write(request)
            if outcome.status == "completed":
                return
            published = await self._publisher.publish_notifications(
                self._topic,
                outcome.notifications,
                kind=NOTIFICATION_PUSHED,
                source=SOURCE_PUSH,
                created_at=outcome.created_at,
                visibility=push_visibility(request),
            )
        self._metrics.events_published.inc(published)
        # Only this step is retried through an outage: the events are out already.
        await outlast_outages(
            f"push {request.push_id}",
            lambda: self._store.mark_completed(request.push_id, published),
            self._retry,
        )
        logger.info(
            "push %s completed: %d notifications in %.3fs",
            request.push_id,
            published,
            time.perf_counter() - started,
        )

    async def fail(self, request: NotificationRequested, exc: Exception) -> None:
        await self._store.mark_failed(request.push_id, exc)
