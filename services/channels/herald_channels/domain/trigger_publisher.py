"""Sends what the HTTP API accepted: employee events as push requests, the rest as broadcasts.

A push request goes to the same topic as `POST /v1/notifications`' (herald.notification.
requested), so the inserter writes the inbox rows and publishes the per-employee events as
for any push; the answer waits for Kafka's acknowledgement, so a 200 means the event is
durable (docs/decisions/0059). The request is keyed and identified by its push id, as the
allocation service's are.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from aiokafka import AIOKafkaProducer

from herald_channels.domain.directory import Broadcaster
from herald_channels.domain.triggers import Trigger, notification_request, route
from herald_common.events import CONTENT_TYPE, NOTIFICATION_REQUESTED, encode, envelope
from herald_common.pusher.broadcast import channel_event

# The CloudEvents source of push requests made through the Pusher HTTP API.
SOURCE_PUSHER_API = "/herald/channels/pusher-api"


class TriggerPublisher:
    def __init__(
        self,
        producer: AIOKafkaProducer,
        broadcaster: Broadcaster,
        *,
        requested_topic: str,
        app_id: str,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._producer = producer
        self._broadcaster = broadcaster
        self._requested_topic = requested_topic
        self._app_id = app_id
        self._clock = clock

    async def publish(self, triggers: Sequence[Trigger]) -> None:
        """Every trigger's records, sent together; returns once Kafka has them all."""
        await asyncio.gather(*(self._one(trigger) for trigger in triggers))

    async def _one(self, trigger: Trigger) -> None:
        routes = route(trigger)
        sends = []
        if routes.employee_ids:
            sends.append(self._request(trigger, routes.employee_ids))
        if routes.live_channels:
            sends.append(
                self._broadcaster.publish(
                    channel_event(
                        list(routes.live_channels),
                        trigger.event,
                        trigger.data,
                        exclude_socket_id=trigger.socket_id,
                    )
                )
            )
        await asyncio.gather(*sends)

    async def _request(self, trigger: Trigger, employee_ids: tuple[str, ...]) -> None:
        request = notification_request(
            trigger, employee_ids, app_id=self._app_id, now=self._clock()
        )
        event = envelope(
            event_id=str(request.push_id),
            source=SOURCE_PUSHER_API,
            event_type=NOTIFICATION_REQUESTED,
            subject=str(request.push_id),
            time=request.requested_at,
            data=request,
        )
        await self._producer.send_and_wait(
            self._requested_topic,
            key=str(request.push_id).encode(),
            value=encode(event),
            headers=[("content-type", CONTENT_TYPE.encode())],
        )
