"""The allocation service's Prometheus metrics, in a registry owned by the app."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter


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
