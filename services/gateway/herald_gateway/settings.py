"""The gateway's settings (env prefix HERALD_GATEWAY_)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class GatewaySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HERALD_GATEWAY_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    log_level: str = "INFO"
    # The built web console (`npm run build` in web/).
    static_dir: Path = Path("web/dist")
    allocation_url: str = "http://127.0.0.1:8001"
    notifier_url: str = "http://127.0.0.1:8002"
    mailer_url: str = "http://127.0.0.1:8003"
    # Notifiers that share the partitions (docs/decisions/0078): the URL of share i of n
    # at index i. Streams of one share's departments go there; every other stream, and
    # every other notifier path, to notifier_url (notifiers reading every partition).
    # Empty: every stream to notifier_url.
    notifier_share_urls: list[str] = Field(default_factory=list)
    # The session cookie's name (the notifiers' HERALD_AUTH_SESSION_COOKIE): its token's
    # department claim routes a stream opened with it.
    session_cookie: str = "herald_session"
    connect_timeout_seconds: float = Field(default=5.0, gt=0)
    # For API calls; streams have no read timeout (the notifier pings every 15 s).
    read_timeout_seconds: float = Field(default=60.0, gt=0)


def load_settings() -> GatewaySettings:
    return GatewaySettings()
