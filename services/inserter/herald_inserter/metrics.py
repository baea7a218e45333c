"""The inserter's Prometheus metrics, in a registry owned by the app (never the global one)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram


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
            "Time spent per phase of one allocation",
            ["phase"],
            buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60),
            registry=self.registry,
        )
