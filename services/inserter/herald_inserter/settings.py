"""The inserter's settings (env prefix HERALD_INSERTER_)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from herald_common.settings import ServiceSettings


class InserterSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="HERALD_INSERTER_", extra="ignore")

    app_id: str = "herald-inserter"
    web_host: str = "127.0.0.1"
    web_port: int = Field(default=6066, ge=1, le=65535)
    # Attempts for an error that is neither bad input nor a lost connection, before the
    # allocation is marked failed and its request dead-lettered.
    max_attempts: int = Field(default=3, ge=1)
    retry_initial_seconds: float = Field(default=0.2, gt=0)
    retry_max_seconds: float = Field(default=10.0, gt=0)

    @property
    def group_id(self) -> str:
        # Prefixed like the topics, so isolated deployments on one broker never share a group.
        return f"{self.topics.prefix}{self.app_id}"


def load_settings() -> InserterSettings:
    return InserterSettings()
