"""JWT verification with an algorithm allow-list fixed in code.

Each accepted algorithm is bound to its own key type: HS256 only ever verifies with the
configured secret and RS256 only with keys from the JWKS, so a token cannot pick its key
by choosing its `alg` (the HS/RS confusion attack), and `none` is never accepted.
Verifying is asynchronous because RS256 keys may have to be fetched (auth/jwks.py).
"""

from __future__ import annotations

import re
import time
from typing import Any, Final

import jwt
from jwt import PyJWKSet

from herald_common.auth.hs256 import Hs256Decoder, is_plain
from herald_common.auth.jwks import JwksPolicy, RemoteJwks, match_key
from herald_common.auth.principal import MANAGER, ROLES, Principal
from herald_common.auth.settings import AuthSettings

ALLOWED_ALGORITHMS: Final = ("HS256", "RS256")
REQUIRED_CLAIMS: Final = ("exp", "aud", "iss", "sub")
# Distinct token headers remembered: an issuer has one per key.
_HEADERS_KEPT: Final = 64


class TokenError(Exception):
    """The token is not acceptable; the message is safe to show (it never echoes the token)."""


class TokenVerifier:
    def __init__(self, settings: AuthSettings) -> None:
        self._settings = settings
        self._secret = settings.hs256_secret.get_secret_value() if settings.hs256_secret else None
        # Plain HS256 tokens (every token Herald mints, and most issuers') are checked by
        # PyJWT's rules in C calls; any other header by PyJWT itself (`hs256`).
        self._hs256 = (
            None
            if self._secret is None
            else Hs256Decoder(
                self._secret,
                audience=settings.audience,
                issuer=settings.issuer,
                leeway=settings.leeway_seconds,
                require=REQUIRED_CLAIMS,
            )
        )
        self._jwks_file: PyJWKSet | None = None
        self._jwks_url: RemoteJwks | None = None
        # Parsed headers by their encoded bytes (see `_header`).
        self._headers: dict[str, dict[str, Any]] = {}
        # With both, the URL's keys are the ones used (as they always were).
        if settings.jwks_url:
            policy = JwksPolicy(
                max_age=settings.jwks_max_age_seconds,
                min_interval=settings.jwks_min_interval_seconds,
                timeout=settings.jwks_timeout_seconds,
            )
            self._jwks_url = RemoteJwks(settings.jwks_url, policy)
        elif settings.jwks_file is not None:
            self._jwks_file = PyJWKSet.from_json(settings.jwks_file.read_text(encoding="utf-8"))

    async def _rsa_key(self, kid: str | None) -> Any:
        """The key for an RS256 token; KeysUnavailable when the JWKS URL cannot be read."""
        if self._jwks_url is not None:
            key = await self._jwks_url.key(kid)
        elif self._jwks_file is not None:
            found = match_key(self._jwks_file, kid)
            key = None if found is None else found.key
        else:
            raise TokenError("RS256 tokens are not accepted here")
        if key is None:
            raise TokenError("no signing key matches the token's kid")
        return key

    def _header(self, token: str) -> dict[str, Any]:
        """The token's header, unverified. Every token of an issuer and key has the same
        header bytes, so each is parsed once: PyJWT's parse reads and checks all three
        parts of the token, and `jwt.decode` reads them all again (docs/decisions/0076)."""
        segment = token.split(".", 1)[0]
        header = self._headers.get(segment)
        if header is None:
            header = jwt.get_unverified_header(token)
            if len(self._headers) >= _HEADERS_KEPT:
                self._headers.clear()  # headers nobody issues: forget them all
            self._headers[segment] = header
        return header

    async def verify(self, token: str) -> Principal:
        try:
            header = self._header(token)
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
            key = await self._rsa_key(header.get("kid"))
        try:
            if self._hs256 is not None and is_plain(header):
                claims = self._hs256.decode(token)
            else:
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
        except jwt.InvalidSignatureError as exc:
            raise TokenError("token signature or claims are invalid") from exc
        except jwt.DecodeError as exc:
            # A known header with a payload or signature that is not one (the header alone
            # was read above).
            raise TokenError("malformed token") from exc
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
    department = claims.get("department")
    if not isinstance(department, str) or not 1 <= len(department) <= 64 or "\x00" in department:
        department = None  # a hint for routing streams; without it they go to any replica
    expires = claims.get("exp")
    return Principal(
        subject=subject,
        roles=roles,
        manages=manages,
        department=department,
        # PyJWT checked `exp` as int() reads it (17e8, 1.7e9, "1700000000"); kept so, not
        # dropped, since streams and session cookies end at it.
        expires_at=int(expires) if isinstance(expires, int | float | str) else None,
    )


def mint_token(
    settings: AuthSettings,
    *,
    subject: str,
    roles: list[str],
    manages: str | None = None,
    ttl_seconds: int | None = None,
    department: str | None = None,
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
    if department is not None:
        claims["department"] = department
    return jwt.encode(claims, settings.hs256_secret.get_secret_value(), algorithm="HS256")
