"""The allocation service's settings (env prefix HERALD_ALLOCATION_)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from herald_common.approval import ApprovalSettings
from herald_common.auth.settings import AuthSettings
from herald_common.settings import ServiceSettings


class AllocationSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="HERALD_ALLOCATION_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(default=8001, ge=1, le=65535)
    auth: AuthSettings = Field(default_factory=AuthSettings)
    max_body_bytes: int = Field(default=1024 * 1024, gt=0)
    max_import_bytes: int = Field(default=64 * 1024 * 1024, gt=0)
    # Browser origins allowed to call the API with credentials; empty means same-origin only.
    cors_origins: list[str] = Field(default_factory=list)
    allocations_per_minute: int = Field(default=30, ge=1)
    pushes_per_minute: int = Field(default=120, ge=1)
    # Above this many recipients (and always for everyone) sending needs the count typed.
    typed_confirmation_above: int = Field(default=1000, ge=0)
    # A request no worker picked up within this time shows "waiting for a worker".
    worker_wait_seconds: float = Field(default=30.0, gt=0)
    # How often the outbox relay sends what was not sent right after its commit, and how
    # often the waiting-for-a-worker gauges are refreshed.
    outbox_relay_interval_seconds: float = Field(default=1.0, gt=0)
    watch_interval_seconds: float = Field(default=5.0, gt=0)
    # Four-eyes approval (HERALD_APPROVAL_*; the inserter applies the same rule).
    approval: ApprovalSettings = Field(default_factory=ApprovalSettings)
    # How often due schedules are sent and stale approvals expired: a schedule fires
    # within about this long of its time.
    schedule_interval_seconds: float = Field(default=1.0, gt=0)


def load_settings() -> AllocationSettings:
    return AllocationSettings()
