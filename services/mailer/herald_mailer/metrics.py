"""The mailer's Prometheus metrics, in a registry owned by the app."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

from herald_common.supervisor import restart_counter


class MailerMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.completions = Counter(
            "herald_mailer_completions_total",
            "Allocation completion events handled, by outcome",
            ["outcome"],
            registry=self.registry,
        )
        self.summaries = Counter(
            "herald_mailer_summaries_created_total",
            "Manager summaries created (one in-app notification each)",
            registry=self.registry,
        )
        self.emails = Counter(
            "herald_mailer_emails_total",
            "Summary emails by outcome (sent, retried, failed, unknown, opted_out)",
            ["outcome"],
            registry=self.registry,
        )
        self.dead_letters = Counter(
            "herald_mailer_dead_letters_total",
            "Records sent to a dead-letter topic",
            registry=self.registry,
        )
        self.smtp_seconds = Histogram(
            "herald_mailer_smtp_seconds",
            "Time to hand one email to the SMTP server",
            buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30),
            registry=self.registry,
        )
        self.task_restarts = restart_counter("mailer", self.registry)
