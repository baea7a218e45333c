"""The allocation service's settings (env prefix HERALD_ALLOCATION_)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from herald_common.settings import ServiceSettings


class AllocationSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="HERALD_ALLOCATION_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(default=8001, ge=1, le=65535)
    max_import_bytes: int = Field(default=64 * 1024 * 1024, gt=0)


def load_settings() -> AllocationSettings:
    return AllocationSettings()
