"""A faust app whose worker consumer reads with isolation_level=read_committed.

faust reads read_committed only in its own `exactly_once` mode, which brings faust's
transactions (with their open duplicate bugs) along. Requests may come from any producer,
transactional ones included, and a request in an aborted transaction must never be acted
on, so the consumer faust builds is switched to read_committed before it starts.
"""

from __future__ import annotations

from typing import Any

import faust
from faust.transport.drivers import aiokafka as faust_aiokafka

READ_COMMITTED = "read_committed"


class _ConsumerThread(faust_aiokafka.AIOKafkaConsumerThread):
    def _create_worker_consumer(self, transport: Any) -> Any:
        consumer = super()._create_worker_consumer(transport)
        # aiokafka keeps the level as given until start() builds its fetcher from it.
        consumer._isolation_level = READ_COMMITTED
        return consumer


class _Consumer(faust_aiokafka.Consumer):
    def _new_consumer_thread(self) -> faust_aiokafka.AIOKafkaConsumerThread:
        return _ConsumerThread(self, loop=self.loop, beacon=self.beacon)


class _Transport(faust_aiokafka.Transport):
    Consumer = _Consumer


class ReadCommittedApp(faust.App):
    def _new_transport(self) -> Any:
        return _Transport(self.conf.broker_consumer, self)
