"""Publishing a broadcast: every replica, this one too, reads it back from Kafka."""

from __future__ import annotations

from aiokafka import AIOKafkaProducer

from herald_common.pusher.broadcast import ChannelBroadcast, to_record


class KafkaBroadcaster:
    def __init__(self, producer: AIOKafkaProducer, topic: str) -> None:
        self._producer = producer
        self._topic = topic

    async def publish(self, broadcast: ChannelBroadcast) -> None:
        key, value = to_record(broadcast)
        await self._producer.send_and_wait(self._topic, value, key=key)
