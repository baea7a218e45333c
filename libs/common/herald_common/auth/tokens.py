"""JWT verification with an algorithm allow-list fixed in code.

Each accepted algorithm is bound to its own key type: HS256 only ever verifies with the
configured secret and RS256 only with keys from the JWKS, so a token cannot pick its key
by choosing its `alg` (the HS/RS confusion attack), and `none` is never accepted.
"""

from __future__ import annotations

import json
import re
import time
import urllib.request
from typing import Any, Final

import jwt
from jwt import PyJWKSet

from herald_common.auth.principal import MANAGER, ROLES, Principal
from herald_common.auth.settings import AuthSettings

ALLOWED_ALGORITHMS: Final = ("HS256", "RS256")
REQUIRED_CLAIMS: Final = ("exp", "aud", "iss", "sub")
_JWKS_REFRESH_SECONDS: Final = 300.0


class TokenError(Exception):
    """The token is not acceptable; the message is safe to show (it never echoes the token)."""


class TokenVerifier:
    def __init__(self, settings: AuthSettings) -> None:
        self._settings = settings
        self._secret = settings.hs256_secret.get_secret_value() if settings.hs256_secret else None
        self._jwks: PyJWKSet | None = None
        self._jwks_loaded_at = 0.0
        if settings.jwks_file is not None:
            self._jwks = PyJWKSet.from_json(settings.jwks_file.read_text(encoding="utf-8"))

    def _rsa_key(self, kid: str | None) -> Any:
        if (
            self._settings.jwks_url
            and time.monotonic() - self._jwks_loaded_at > _JWKS_REFRESH_SECONDS
        ):
            self._jwks = _fetch_jwks(self._settings.jwks_url)
            self._jwks_loaded_at = time.monotonic()
        if self._jwks is None:
            raise TokenError("RS256 tokens are not accepted here")
        keys = [
            k for k in self._jwks.keys if k.key_type == "RSA" and (kid is None or k.key_id == kid)
        ]
        if len(keys) != 1:
            raise TokenError("no signing key matches the token's kid")
        return keys[0].key

    def verify(self, token: str) -> Principal:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise TokenError("malformed token") from exc
        algorithm = header.get("alg")
        if algorithm not in ALLOWED_ALGORITHMS:
            raise TokenError("token algorithm is not allowed")
        if algorithm == "HS256":
            if self._secret is None:
                raise TokenError("HS256 tokens are not accepted here")
            key: Any = self._secret
        else:
            key = self._rsa_key(header.get("kid"))
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                audience=self._settings.audience,
                issuer=self._settings.issuer,
                leeway=self._settings.leeway_seconds,
                options={"require": list(REQUIRED_CLAIMS)},
            )
        except jwt.ExpiredSignatureError as exc:
            raise TokenError("token has expired") from exc
        except jwt.InvalidAudienceError as exc:
            raise TokenError("token is not for this audience") from exc
        except jwt.InvalidIssuerError as exc:
            raise TokenError("token is from an unknown issuer") from exc
        except jwt.MissingRequiredClaimError as exc:
            raise TokenError(f"token lacks the {exc.claim!r} claim") from exc
        except jwt.PyJWTError as exc:
            raise TokenError("token signature or claims are invalid") from exc
        return principal_from_claims(claims)


# Subjects are employee ids or service names; either way short, printable and storable.
_SUBJECT = re.compile(r"[A-Za-z0-9_.@:-]{1,64}")


def principal_from_claims(claims: dict[str, Any]) -> Principal:
    subject = claims.get("sub")
    if not isinstance(subject, str) or not _SUBJECT.fullmatch(subject):
        raise TokenError("token subject is invalid")
    raw_roles = claims.get("roles", [])
    if not isinstance(raw_roles, list) or not all(isinstance(r, str) for r in raw_roles):
        raise TokenError("token roles must be a list of strings")
    roles = frozenset(raw_roles) & ROLES
    if not roles:
        raise TokenError("token carries no known role")
    manages = claims.get("manages")
    if MANAGER in roles:
        if not isinstance(manages, str) or not 1 <= len(manages) <= 64 or "\x00" in manages:
            raise TokenError("a manager token must name the department it manages")
    else:
        manages = None
    expires = claims.get("exp")
    return Principal(
        subject=subject,
        roles=roles,
        manages=manages,
        # PyJWT checked `exp` as int() reads it (17e8, 1.7e9, "1700000000"); kept so, not
        # dropped, since streams and session cookies end at it.
        expires_at=int(expires) if isinstance(expires, int | float | str) else None,
    )


def _fetch_jwks(url: str) -> PyJWKSet:
    if not url.startswith(("https://", "http://")):
        raise TokenError("JWKS URL must be http(s)")
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (scheme checked)
        return PyJWKSet.from_dict(json.loads(response.read()))


def mint_token(
    settings: AuthSettings,
    *,
    subject: str,
    roles: list[str],
    manages: str | None = None,
    ttl_seconds: int | None = None,
) -> str:
    """An HS256 token with the configured secret (dev tooling and tests)."""
    if settings.hs256_secret is None:
        raise TokenError("no HS256 secret is configured to sign with")
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": settings.issuer,
        "aud": settings.audience,
        "sub": subject,
        "roles": roles,
        "iat": now,
        "exp": now + (ttl_seconds or settings.dev_token_ttl_seconds),
    }
    if manages is not None:
        claims["manages"] = manages
    return jwt.encode(claims, settings.hs256_secret.get_secret_value(), algorithm="HS256")
