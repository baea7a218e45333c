"""The gateway's Prometheus metrics, in a registry owned by the app."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge


class GatewayMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "herald_gateway_proxied_requests_total",
            "Requests forwarded to a service, by service and status class",
            ["service", "status"],
            registry=self.registry,
        )
        self.open_streams = Gauge(
            "herald_gateway_open_streams",
            "Responses from the notifier still being relayed",
            registry=self.registry,
        )
