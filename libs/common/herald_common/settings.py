"""Settings shared by every service.

Infrastructure settings (Kafka, PostgreSQL, topic layout) have one env prefix each so the
same variables configure every service; each service adds its own class with its own prefix.
Nothing here is read at import: callers build settings in a factory.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Literal

from pydantic import Field, SecretStr, create_model
from pydantic_settings import BaseSettings, SettingsConfigDict

from herald_common.catalogue import (
    ALLOCATION_COMPLETED_TOPIC,
    ALLOCATION_REQUESTED_TOPIC,
    CHANNEL_BROADCAST_TOPIC,
    DEAD_LETTER_PARTITIONS,
    NOTIFICATION_PUSHED_TOPIC,
    NOTIFICATION_REQUESTED_TOPIC,
    TOPICS,
    VOUCHER_ALLOCATED_TOPIC,
    Topic,
    dead_letter,
)


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


class _TopicName:
    """A catalogued topic's name in this deployment (prefixed), as a typed settings attribute."""

    def __init__(self, topic: Topic) -> None:
        self._topic = topic

    def __get__(self, settings: _TopicSettings, owner: type[_TopicSettings]) -> str:
        return settings.name(self._topic)


class _TopicSettings(BaseSettings):
    """Topic names and partition counts; a prefix isolates test runs on a shared broker.

    The topics are those of herald_common.catalogue; each has a partitions setting
    (`HERALD_TOPICS_<TOPIC>_PARTITIONS`), read through `partitions(topic)`.
    """

    model_config = SettingsConfigDict(env_prefix="HERALD_TOPICS_", extra="ignore")

    prefix: str = ""
    replication_factor: int = Field(default=1, ge=1)
    dead_letter_partitions: int = Field(default=DEAD_LETTER_PARTITIONS, ge=1)

    def name(self, topic: Topic) -> str:
        return f"{self.prefix}{topic.name}"

    def partitions(self, topic: Topic) -> int:
        count: int = getattr(self, topic.setting)
        return count

    # The names the services use, by topic.
    allocation_requested: ClassVar[_TopicName] = _TopicName(ALLOCATION_REQUESTED_TOPIC)
    voucher_allocated: ClassVar[_TopicName] = _TopicName(VOUCHER_ALLOCATED_TOPIC)
    allocation_completed: ClassVar[_TopicName] = _TopicName(ALLOCATION_COMPLETED_TOPIC)
    notification_requested: ClassVar[_TopicName] = _TopicName(NOTIFICATION_REQUESTED_TOPIC)
    notification_pushed: ClassVar[_TopicName] = _TopicName(NOTIFICATION_PUSHED_TOPIC)
    channel_broadcast: ClassVar[_TopicName] = _TopicName(CHANNEL_BROADCAST_TOPIC)

    @staticmethod
    def dead_letter(topic: str) -> str:
        return dead_letter(topic)


if TYPE_CHECKING:
    TopicSettings = _TopicSettings
else:
    # pydantic-settings reads a variable only for a declared field, so the catalogue's
    # topics are declared here, one partitions field each, defaulting to its count.
    # Code reads them through partitions(topic), which is why type checkers need not
    # see them.
    TopicSettings = create_model(
        "TopicSettings",
        __base__=_TopicSettings,
        __module__=__name__,
        __doc__=_TopicSettings.__doc__,
        **{topic.setting: (int, Field(default=topic.partitions, ge=1)) for topic in TOPICS},
    )


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
