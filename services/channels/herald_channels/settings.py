"""The channels service's settings (env prefix HERALD_CHANNELS_)."""

from __future__ import annotations

import socket

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from herald_common.auth.settings import AuthSettings
from herald_common.settings import ServiceSettings


class ChannelsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="HERALD_CHANNELS_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(default=6001, ge=1, le=65535)
    auth: AuthSettings = Field(default_factory=AuthSettings)
    replica_id: str = Field(default_factory=socket.gethostname)
    cors_origins: list[str] = Field(default_factory=list)
    max_body_bytes: int = Field(default=64 * 1024, gt=0)

    # The Pusher app this service is: clients connect to /app/<app_key>, server SDKs call
    # /apps/<app_id>/..., and both sign with app_secret.
    # A number: the Pusher server SDKs refuse any other app id.
    app_id: str = Field(default="1", pattern=r"^[0-9]+$")
    app_key: str = "herald-key"
    app_secret: SecretStr = SecretStr("")

    # Sent in pusher:connection_established: a client pings after this long without a
    # message. The server pings a socket silent this long, and closes it with 4201 when
    # the pong does not come within pong_timeout_seconds.
    activity_timeout_seconds: int = Field(default=120, ge=1, le=3600)
    pong_timeout_seconds: float = Field(default=30.0, gt=0, le=600)
    # Client events (client-*) on private and presence channels; off as on Pusher's default.
    client_events: bool = False
    client_events_per_second: int = Field(default=10, ge=1, le=1000)
    # Sockets this replica holds; the next is closed with 4100 (over capacity).
    max_connections: int = Field(default=20_000, ge=1)
    # Messages waiting for one socket; a socket that falls this far behind is closed with
    # 4200 (reconnect) and catches up from the inbox.
    send_queue_size: int = Field(default=1000, ge=1)
    replay_page_size: int = Field(default=500, ge=1, le=10_000)
    # A replica not seen for this long is gone: its sockets leave the directory.
    replica_timeout_seconds: float = Field(default=30.0, ge=3, le=600)
    # How long a stopping replica gives its sockets after 4200 before uvicorn cuts them.
    shutdown_grace_seconds: float = Field(default=5.0, gt=0, le=300)

    def credentials(self) -> tuple[str, str] | None:
        """The app key and secret, or None where no secret is set (nothing can be signed)."""
        secret = self.app_secret.get_secret_value()
        return (self.app_key, secret) if secret else None


def load_settings() -> ChannelsSettings:
    return ChannelsSettings()
