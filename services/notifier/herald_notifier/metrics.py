"""The notifier's Prometheus metrics, in a registry owned by the app."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from herald_common.supervisor import restart_counter


class NotifierMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.open_streams = Gauge(
            "herald_notifier_open_streams", "Open SSE streams", registry=self.registry
        )
        self.partitions_read = Gauge(
            "herald_notifier_partitions_read",
            "Partitions of the per-employee topics this process reads (its share's,"
            " docs/decisions/0078)",
            registry=self.registry,
        )
        self.events_consumed = Counter(
            "herald_notifier_events_consumed_total",
            "Events read from Kafka",
            registry=self.registry,
        )
        self.deliveries = Counter(
            "herald_notifier_deliveries_total",
            "Events handed to a stream: live, replayed on connect, or read from the inbox"
            " to close a gap",
            ["path"],
            registry=self.registry,
        )
        self.cut_offs = Counter(
            "herald_notifier_slow_subscribers_cut_off_total",
            "Streams cut off because their reader was too slow: a full buffer, or a write"
            " stuck past the send timeout",
            registry=self.registry,
        )
        self.resets = Counter(
            "herald_notifier_replay_resets_total",
            "Reconnects told to reload the inbox because they missed too much",
            registry=self.registry,
        )
        self.gap_reads = Counter(
            "herald_notifier_gap_reads_total",
            "Live events that could follow a notification not yet sent, so the stream read"
            " the inbox up to them first",
            registry=self.registry,
        )
        self.gap_queries = Counter(
            "herald_notifier_gap_queries_total",
            "Inbox queries made for live gap reads: one serves every stream that asked for the"
            " same departments after the same id at the same moment",
            registry=self.registry,
        )
        self.dead_letters = Counter(
            "herald_notifier_dead_letters_total",
            "Records sent to a dead-letter topic by this replica (one replica sends each)",
            registry=self.registry,
        )
        self.consumer_lag = Gauge(
            "herald_notifier_consumer_lag_records",
            "Committed records not yet read, summed over the assigned partitions",
            registry=self.registry,
        )
        self.replay_events = Histogram(
            "herald_notifier_replay_events",
            "Events replayed from the inbox to one stream on (re)connect",
            buckets=(0, 1, 10, 100, 1_000, 10_000, 100_000),
            registry=self.registry,
        )
        self.task_restarts = restart_counter("notifier", self.registry)
