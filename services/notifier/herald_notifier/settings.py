"""The notifier's settings (env prefix HERALD_NOTIFIER_)."""

from __future__ import annotations

import logging
import socket
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

from herald_common.affinity import Share
from herald_common.auth.settings import AuthSettings
from herald_common.pins import CompatMode
from herald_common.settings import ServiceSettings


class NotifierSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="HERALD_NOTIFIER_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(default=8002, ge=1, le=65535)
    auth: AuthSettings = Field(default_factory=AuthSettings)
    cors_origins: list[str] = Field(default_factory=list)
    max_body_bytes: int = Field(default=64 * 1024, gt=0)
    replica_id: str = Field(default_factory=socket.gethostname)
    subscriber_queue_size: int = Field(default=1000, ge=1)
    ping_seconds: float = Field(default=15.0, gt=0, le=15.0)
    retry_ms: int = Field(default=3000, ge=0)
    send_timeout_seconds: float = Field(default=30.0, gt=0)
    replay_page_size: int = Field(default=500, ge=1, le=10_000)
    # Past this many missed events a stream sends `reset` and the client reloads its inbox.
    replay_limit: int = Field(default=2000, ge=1)
    max_streams_per_employee: int = Field(default=8, ge=1)
    ticket_ttl_seconds: int = Field(default=30, ge=1, le=60)
    # At most one `herald.allocation.delivered` frame per watched allocation per interval.
    delivered_interval_seconds: float = Field(default=0.5, gt=0, le=60)
    # Pusher-style channel authorization (`key:signature`); off unless both are set.
    channel_auth_key: str | None = None
    channel_auth_secret: SecretStr | None = None
    # On SIGTERM every stream gets a reconnect hint and is closed; a stream still busy
    # (e.g. mid-replay) after this long is cut. The pod's terminationGracePeriodSeconds
    # must cover the preStop sleep, this grace and a few seconds of shutdown.
    shutdown_grace_seconds: float = Field(default=10.0, gt=0, le=300)
    # auto: aiokafka's and uvicorn's internals where they are the pinned versions (the
    # measured fast paths); public: their public APIs only (docs/decisions/0042).
    compat: CompatMode = "auto"
    # Which partitions of the per-employee topics this process reads, and so which
    # streams it holds: `all` (every partition, any stream), or `i/n` for share i of n
    # (the partitions p with p mod n = i; the gateway sends each stream to the share of
    # its department, herald_common.affinity; docs/decisions/0078).
    partition_share: str = "all"
    # The access line of a stream that opens (status 200) is written at DEBUG unless this
    # says info; refused opens, tickets and every other request are written at INFO, and
    # so is every line on the public compat path (docs/decisions/0091). Each line costs an
    # open about 19 µs of the notifier's CPU.
    stream_access_lines: Literal["info", "debug"] = "debug"

    @field_validator("partition_share")
    @classmethod
    def _share_is_valid(cls, value: str) -> str:
        return str(Share.parse(value))

    @property
    def stream_access_level(self) -> int:
        return logging.INFO if self.stream_access_lines == "info" else logging.DEBUG

    @property
    def share(self) -> Share:
        return Share.parse(self.partition_share)

    def channel_auth_credentials(self) -> tuple[str, str] | None:
        """The key and secret of channel authorization, or None where it is off."""
        if self.channel_auth_key is None or self.channel_auth_secret is None:
            return None
        return self.channel_auth_key, self.channel_auth_secret.get_secret_value()


def load_settings() -> NotifierSettings:
    return NotifierSettings()
