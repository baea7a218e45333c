"""Token verification settings (env prefix HERALD_AUTH_), shared by every HTTP service."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class AuthSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HERALD_AUTH_", extra="ignore")

    issuer: str = "herald"
    audience: str = "herald"
    # HS256 is accepted only when a secret is configured, RS256 only when keys are.
    hs256_secret: SecretStr | None = None
    jwks_file: Path | None = None
    jwks_url: str | None = None
    # Keys from the URL are used this long, then fetched again (in the background).
    jwks_max_age_seconds: float = Field(default=300.0, gt=0)
    # No two fetches closer than this, whatever asks (an unknown kid, a failure): while
    # a failed fetch is this recent, RS256 tokens get 503 with Retry-After.
    jwks_min_interval_seconds: float = Field(default=10.0, gt=0)
    jwks_timeout_seconds: float = Field(default=5.0, gt=0)
    leeway_seconds: int = Field(default=30, ge=0, le=300)
    # Mints tokens for demo employees (CLI and endpoint). Never on in production.
    dev_mode: bool = False
    dev_token_ttl_seconds: int = Field(default=8 * 3600, gt=0)
    session_cookie: str = "herald_session"
    session_cookie_secure: bool = True
