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
    connect_timeout_seconds: float = Field(default=5.0, gt=0)
    # For API calls; streams have no read timeout (the notifier pings every 15 s).
    read_timeout_seconds: float = Field(default=60.0, gt=0)


def load_settings() -> GatewaySettings:
    return GatewaySettings()
