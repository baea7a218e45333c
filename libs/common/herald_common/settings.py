"""Settings shared by every service.

Infrastructure settings (Kafka, PostgreSQL, topic layout) have one env prefix each so the
same variables configure every service; each service adds its own class with its own prefix.
Nothing here is read at import: callers build settings in a factory.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class KafkaSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HERALD_KAFKA_", extra="ignore")

    bootstrap: str = "127.0.0.1:19092"
    security_protocol: str = "PLAINTEXT"
    sasl_mechanism: str | None = None
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    # CA bundle for SSL/SASL_SSL (e.g. a Strimzi cluster CA); the system's CAs when unset.
    ssl_cafile: str | None = None
    # Kafka 4 defaults linger.ms to 5; aiokafka still defaults to 0, which makes tiny batches.
    linger_ms: int = Field(default=5, ge=0)
    max_batch_bytes: int = Field(default=512 * 1024, gt=0)
    # Per-employee events repeat most of their bytes; zstd shrinks them several times over,
    # and publishes faster than no compression at all (fewer bytes to checksum, send and
    # store) or than lz4, whose codec in aiokafka is slow (docs/decisions/0031).
    compression_type: Literal["none", "gzip", "snappy", "lz4", "zstd"] = "zstd"
    request_timeout_ms: int = Field(default=30_000, gt=0)


class TopicSettings(BaseSettings):
    """Topic names and partition counts; a prefix isolates test runs on a shared broker."""

    model_config = SettingsConfigDict(env_prefix="HERALD_TOPICS_", extra="ignore")

    prefix: str = ""
    replication_factor: int = Field(default=1, ge=1)
    allocation_requested_partitions: int = Field(default=6, ge=1)
    voucher_allocated_partitions: int = Field(default=12, ge=1)
    allocation_completed_partitions: int = Field(default=3, ge=1)
    notification_requested_partitions: int = Field(default=3, ge=1)
    notification_pushed_partitions: int = Field(default=12, ge=1)
    dead_letter_partitions: int = Field(default=1, ge=1)

    @property
    def allocation_requested(self) -> str:
        return f"{self.prefix}herald.allocation.requested"

    @property
    def voucher_allocated(self) -> str:
        return f"{self.prefix}herald.voucher.allocated"

    @property
    def allocation_completed(self) -> str:
        return f"{self.prefix}herald.allocation.completed"

    @property
    def notification_requested(self) -> str:
        return f"{self.prefix}herald.notification.requested"

    @property
    def notification_pushed(self) -> str:
        return f"{self.prefix}herald.notification.pushed"

    @staticmethod
    def dead_letter(topic: str) -> str:
        return f"{topic}.dlq"


class DatabaseSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HERALD_DATABASE_", extra="ignore")

    url: SecretStr = SecretStr("postgresql://herald@127.0.0.1:15432/herald")
    pool_min_size: int = Field(default=1, ge=0)
    pool_max_size: int = Field(default=10, ge=1)


class ServiceSettings(BaseSettings):
    """Base of every service's settings class; subclasses set their own env prefix."""

    model_config = SettingsConfigDict(extra="ignore")

    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    topics: TopicSettings = Field(default_factory=TopicSettings)
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    log_level: str = "INFO"
