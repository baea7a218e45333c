"""Metric names follow the conventions, and consumer lag is counted from handled records."""

from __future__ import annotations

import pytest
from aiokafka import TopicPartition
from prometheus_client.metrics import MetricWrapperBase

from herald_allocation.metrics import AllocationMetrics
from herald_inserter.metrics import InserterMetrics, PartitionProgress
from herald_notifier.domain import consumer as notifier_consumer
from herald_notifier.metrics import NotifierMetrics

# Labels whose values are bounded by the code, never by the data (no employee ids).
ALLOWED_LABELS = {"result", "outcome", "phase", "path", "task"}


def _metrics() -> list[MetricWrapperBase]:
    owners = [AllocationMetrics(), InserterMetrics(), NotifierMetrics()]
    return [m for owner in owners for m in vars(owner).values() if isinstance(m, MetricWrapperBase)]


# prometheus_client keeps a metric's name, type and label names only in private fields.
@pytest.mark.parametrize("metric", _metrics(), ids=lambda m: m._name)
def test_metric_follows_the_naming_conventions(metric: MetricWrapperBase) -> None:
    name = metric._name
    assert name.startswith("herald_")
    if metric._type == "histogram":
        assert name.endswith(("_seconds", "_events")), "histograms name their unit"
    if metric._type == "gauge":
        assert not name.endswith("_total"), "_total is for counters"
    assert set(metric._labelnames) <= ALLOWED_LABELS


def test_the_metrics_the_deployment_docs_promise_exist() -> None:
    names = {metric._name for metric in _metrics()}
    assert {
        "herald_allocation_requests",
        "herald_inserter_vouchers_inserted",
        "herald_inserter_events_published",
        "herald_inserter_consumer_lag_records",
        "herald_notifier_consumer_lag_records",
        "herald_notifier_open_streams",
        "herald_notifier_deliveries",
        "herald_notifier_slow_subscribers_cut_off",
        "herald_notifier_replay_events",
    } <= names


async def test_inserter_lag_counts_from_the_last_handled_record() -> None:
    progress = PartitionProgress("requests")
    assigned = [TopicPartition("requests", 0), TopicPartition("requests", 1)]
    highwater = {assigned[0]: 10, assigned[1]: 5}
    # The consumer has fetched ahead of the agent; its position must not hide the backlog.
    positions = {assigned[0]: 10, assigned[1]: 5}

    async def position(tp: TopicPartition) -> int | None:
        return positions[tp]

    progress.done("requests", 0, 3)  # next to handle: 4
    lag = await progress.lag(assigned, highwater.get, position)
    assert lag == (10 - 4) + (5 - 5)

    progress.done("requests", 0, 9)
    assert await progress.lag(assigned, highwater.get, position) == 0


async def test_inserter_lag_forgets_partitions_that_moved_away() -> None:
    progress = PartitionProgress("requests")
    tp = TopicPartition("requests", 0)
    progress.done("requests", 0, 3)

    async def position(_: TopicPartition) -> int | None:
        return 8

    assert await progress.lag([], {}.get, position) == 0
    # Back again: another worker handled up to 8 meanwhile; the old offset must not count.
    assert await progress.lag([tp], {tp: 10}.get, position) == 2


class _FakeConsumer:
    def __init__(self) -> None:
        self.tps = [TopicPartition("v", 0), TopicPartition("v", 1)]
        self.lso: dict[TopicPartition, int | None] = {self.tps[0]: 7, self.tps[1]: None}
        self.high = {self.tps[0]: 9, self.tps[1]: 4}
        self.pos = {self.tps[0]: 5, self.tps[1]: 1}

    def assignment(self) -> set[TopicPartition]:
        return set(self.tps)

    def last_stable_offset(self, tp: TopicPartition) -> int | None:
        return self.lso[tp]

    def highwater(self, tp: TopicPartition) -> int:
        return self.high[tp]

    async def position(self, tp: TopicPartition) -> int:
        return self.pos[tp]


async def test_notifier_lag_reads_to_the_last_stable_offset() -> None:
    # Partition 0: up to the last stable offset (7), not the high watermark (9).
    # Partition 1: no stable offset known yet, so the high watermark.
    lag = await notifier_consumer._lag(_FakeConsumer())  # type: ignore[arg-type]
    assert lag == (7 - 5) + (4 - 1)
