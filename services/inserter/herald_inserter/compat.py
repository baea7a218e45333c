"""The inserter's use of private APIs, all of it: faust's consumer hooks, aiokafka's level.

faust reads `read_committed` only in its own `exactly_once` mode, which brings faust's
transactions (with their open duplicate bugs) along (docs/decisions/0004, 0030). Requests
may come from any producer, transactional ones included, and a request in an aborted
transaction must never be acted on. Two ways to that, chosen once at start-up
(`Internals.choose`, docs/decisions/0042):

- `ReadCommittedApp` (the default): a faust App whose worker consumer reads
  read_committed. It overrides three private factory hooks of faust's aiokafka driver
  (`App._new_transport`, `Consumer._new_consumer_thread`,
  `AIOKafkaConsumerThread._create_worker_consumer`) and sets the consumer's private
  `_isolation_level` before it starts. Used where faust-streaming and aiokafka are
  installed at the exact versions pyproject.toml pins.
- The public path (either installed at another version, logged as a warning, or
  HERALD_INSERTER_COMPAT=public): faust's own App, whose consumer reads everything, and
  each request confirmed committed by a read_committed aiokafka consumer of our own
  before it is acted on (`api/committed_requests.py`): one fetch more per request.

tests/reliability/test_transactions.py (the default) and
tests/integration/test_public_paths.py (the public path) write a request in an aborted
transaction and check it is never acted on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import faust
from faust.transport.drivers import aiokafka as faust_aiokafka

from herald_common.pins import CompatMode, private_apis

# The packages whose internals are used here; pyproject.toml pins each.
PINNED = ("faust-streaming", "aiokafka")
READ_COMMITTED = "read_committed"


@dataclass(frozen=True, slots=True)
class Internals:
    """Which private APIs this process uses; False is the public fallback."""

    consumer_hooks: bool  # ReadCommittedApp, not faust.App plus a confirmation per request

    @classmethod
    def choose(cls, mode: CompatMode) -> Internals:
        """Checks the installed versions against the pins; logs what falls back and why."""
        usable = private_apis("herald-inserter", PINNED, mode)
        return cls(consumer_hooks=usable == frozenset(PINNED))


def app_class(internals: Internals) -> type[faust.App]:
    return ReadCommittedApp if internals.consumer_hooks else faust.App


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
