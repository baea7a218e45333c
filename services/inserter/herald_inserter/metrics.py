"""The inserter's Prometheus metrics, in a registry owned by the app (never the global one)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import NamedTuple, TypeVar

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class InserterMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "herald_inserter_requests_total",
            "Allocation requests handled, by outcome",
            ["outcome"],
            registry=self.registry,
        )
        self.dead_letters = Counter(
            "herald_inserter_dead_letters_total",
            "Records sent to a dead-letter topic",
            registry=self.registry,
        )
        self.vouchers_inserted = Counter(
            "herald_inserter_vouchers_inserted_total",
            "Voucher rows written with COPY",
            registry=self.registry,
        )
        self.events_published = Counter(
            "herald_inserter_events_published_total",
            "Per-employee events acknowledged by Kafka",
            registry=self.registry,
        )
        self.phase_seconds = Histogram(
            "herald_inserter_phase_seconds",
            # Per chunk: "write" (its PostgreSQL transaction, the writer lock held) and
            # "publish" (its Kafka commit and bookkeeping); per allocation: "first_chunk"
            # (from the start to the first chunk committed in Kafka) and "total".
            "Time spent per phase of one allocation",
            ["phase"],
            buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60),
            registry=self.registry,
        )
        self.chunks = Counter(
            "herald_inserter_allocation_chunks_total",
            "Allocation chunks committed in PostgreSQL and Kafka",
            registry=self.registry,
        )
        self.consumer_lag = Gauge(
            "herald_inserter_consumer_lag_records",
            "Allocation requests on this worker's partitions not yet handled",
            registry=self.registry,
        )


# faust's and aiokafka's partition types are both (topic, partition) named tuples.
TP = TypeVar("TP", bound=tuple[str, int])


class Partition(NamedTuple):
    topic: str
    partition: int


class PartitionProgress:
    """The next offset to handle per partition, advanced only once a record is done.

    The consumer's own position runs ahead of the agent (faust buffers fetched records),
    so lag measured from it would hide a backlog the agent has not touched yet.
    """

    def __init__(self, *topics: str) -> None:
        self._topics = frozenset(topics)
        self._next: dict[Partition, int] = {}

    def done(self, topic: str, partition: int, offset: int) -> None:
        self._next[Partition(topic, partition)] = offset + 1

    async def lag(
        self,
        assigned: Iterable[TP],
        highwater: Callable[[TP], int | None],
        position: Callable[[TP], Awaitable[int | None]],
    ) -> int:
        ours = [tp for tp in assigned if tp[0] in self._topics]
        # A partition that moved to another worker may come back later; what we knew of
        # it then is stale, so start again from the consumer's position.
        for key in set(self._next) - {Partition(*tp) for tp in ours}:
            del self._next[key]
        total = 0
        for tp in ours:
            end = highwater(tp)
            start = self._next.get(Partition(*tp))
            if start is None:
                start = await position(tp)
            if end is not None and start is not None:
                total += max(0, end - start)
        return total
