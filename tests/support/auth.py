"""Tokens for tests, signed with the session's random HS256 secret."""

from __future__ import annotations

from pydantic import SecretStr

from herald_common.auth.settings import AuthSettings
from herald_common.auth.tokens import mint_token


def auth_settings(secret: str) -> AuthSettings:
    return AuthSettings(hs256_secret=SecretStr(secret))


def token(
    secret: str,
    subject: str,
    roles: list[str],
    manages: str | None = None,
    ttl_seconds: int = 3600,
    department: str | None = None,
) -> str:
    return mint_token(
        auth_settings(secret),
        subject=subject,
        roles=roles,
        manages=manages,
        ttl_seconds=ttl_seconds,
        department=department,
    )


def bearer(
    secret: str,
    subject: str,
    roles: list[str],
    manages: str | None = None,
    department: str | None = None,
) -> dict[str, str]:
    token_ = token(secret, subject, roles, manages, department=department)
    return {"Authorization": f"Bearer {token_}"}
