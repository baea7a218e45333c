"""The allocation service's Prometheus metrics, in a registry owned by the app."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge

from herald_common.supervisor import restart_counter


class AllocationMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.allocations_requested = Counter(
            "herald_allocation_requests_total",
            "Allocation requests accepted, by whether they were new or replayed",
            ["result"],
            registry=self.registry,
        )
        self.employees_imported = Counter(
            "herald_allocation_employees_imported_total",
            "Employee rows loaded by CSV import",
            registry=self.registry,
        )
        self.waiting_for_worker = Gauge(
            "herald_allocation_waiting_for_worker",
            "Allocations requested longer ago than the worker wait limit that no worker started",
            registry=self.registry,
        )
        self.oldest_waiting_seconds = Gauge(
            "herald_allocation_oldest_waiting_seconds",
            "Age of the oldest allocation waiting for a worker (0 when none waits)",
            registry=self.registry,
        )
        self.outbox_pending = Gauge(
            "herald_allocation_outbox_pending",
            "Request events committed but not yet acknowledged by Kafka",
            registry=self.registry,
        )
        self.task_restarts = restart_counter("allocation", self.registry)
