"""The notifier's settings (env prefix HERALD_NOTIFIER_)."""

from __future__ import annotations

import socket

from herald_common.settings import ServiceSettings
from pydantic import Field
from pydantic_settings import SettingsConfigDict


class NotifierSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="HERALD_NOTIFIER_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(default=8002, ge=1, le=65535)
    # Lets a caller name the employee in the query string. Local development only: the
    # stream is otherwise unauthenticated until real authentication is configured.
    dev_mode: bool = False
    replica_id: str = Field(default_factory=socket.gethostname)
    subscriber_queue_size: int = Field(default=1000, ge=1)
    ping_seconds: float = Field(default=15.0, gt=0, le=15.0)
    retry_ms: int = Field(default=3000, ge=0)
    send_timeout_seconds: float = Field(default=30.0, gt=0)
    replay_page_size: int = Field(default=500, ge=1, le=10_000)
    # On SIGTERM every stream gets a reconnect hint and is closed; a stream still busy
    # (e.g. mid-replay) after this long is cut. The pod's terminationGracePeriodSeconds
    # must cover the preStop sleep, this grace and a few seconds of shutdown.
    shutdown_grace_seconds: float = Field(default=10.0, gt=0, le=300)


def load_settings() -> NotifierSettings:
    return NotifierSettings()
