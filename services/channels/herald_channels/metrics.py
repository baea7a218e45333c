"""The channels service's Prometheus metrics, in a registry owned by the app."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge

from herald_common.supervisor import restart_counter


class ChannelsMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.connections = Gauge(
            "herald_channels_connections", "Open Pusher sockets", registry=self.registry
        )
        self.connections_opened = Counter(
            "herald_channels_connections_opened_total",
            "Pusher sockets accepted (connection_established sent)",
            registry=self.registry,
        )
        self.closes = Counter(
            "herald_channels_closes_total",
            "Sockets closed by the server, by close code",
            ["code"],
            registry=self.registry,
        )
        self.refused = Counter(
            "herald_channels_auth_refused_total",
            "Subscriptions and sign-ins refused for their signature",
            ["act"],
            registry=self.registry,
        )
        self.deliveries = Counter(
            "herald_channels_notifications_total",
            "Herald notifications written to sockets, live or replayed",
            ["path"],
            registry=self.registry,
        )
        self.broadcasts = Counter(
            "herald_channels_broadcasts_total",
            "Broadcast records read from Kafka",
            registry=self.registry,
        )
        self.dead_letters = Counter(
            "herald_channels_dead_letters_total",
            "Records this replica sent to a dead-letter topic (claimed first, one reader sends)",
            registry=self.registry,
        )
        self.cut_offs = Counter(
            "herald_channels_cut_offs_total",
            "Sockets closed with 4200 for falling too far behind",
            registry=self.registry,
        )
        self.task_restarts = restart_counter("channels", self.registry)
