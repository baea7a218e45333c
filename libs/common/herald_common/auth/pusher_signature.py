"""Pusher HTTP API request signatures, as Pusher's server SDKs make them.

The string to sign is `METHOD\\nPATH\\nQUERY`, QUERY being every query parameter but
`auth_signature`, keys lowercased, sorted, joined `k=v&...` without URL escaping. The
signature is the hex HMAC-SHA256 of that string under the app's secret; `body_md5` is the
hex MD5 of the raw body (the Python SDK sends it on GET too, over the empty body).

A rejection carries the plain-text explanation Pusher answers with a 401.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Final

AUTH_VERSION: Final = "1.0"
# Pusher accepts a request signed up to ten minutes either side of its clock.
TIMESTAMP_WINDOW_SECONDS: Final = 600
_REQUIRED: Final = ("auth_key", "auth_timestamp", "auth_version", "auth_signature")


class SignatureRejected(ValueError):
    """The request is not signed by a known app within the window; str() is Pusher's text."""


def body_md5(body: bytes) -> str:
    # MD5 is the protocol's body checksum (the HMAC is what authenticates), not a security use.
    return hashlib.md5(body, usedforsecurity=False).hexdigest()


def string_to_sign(method: str, path: str, params: Mapping[str, str]) -> str:
    query = "&".join(
        f"{key}={value}"
        for key, value in sorted((key.lower(), value) for key, value in params.items())
        if key != "auth_signature"
    )
    return f"{method.upper()}\n{path}\n{query}"


def sign(secret: str, method: str, path: str, params: Mapping[str, str]) -> str:
    return hmac.new(
        secret.encode(), string_to_sign(method, path, params).encode(), hashlib.sha256
    ).hexdigest()


def signed_params(
    key: str, secret: str, method: str, path: str, body: bytes, timestamp: int
) -> dict[str, str]:
    """The auth parameters a server SDK adds to a request (for tests and tools)."""
    params = {
        "auth_key": key,
        "auth_timestamp": str(timestamp),
        "auth_version": AUTH_VERSION,
        "body_md5": body_md5(body),
    }
    params["auth_signature"] = sign(secret, method, path, params)
    return params


def _when(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def verify(
    *,
    key: str,
    secret: str,
    method: str,
    path: str,
    params: Mapping[str, str],
    body: bytes,
    now: float,
) -> None:
    """Raises SignatureRejected unless the request is signed with `key` and `secret`."""
    missing = [name for name in _REQUIRED if not params.get(name)]
    if missing:
        raise SignatureRejected(f"Missing required parameter(s): {', '.join(missing)}")
    if not hmac.compare_digest(params["auth_key"].encode(), key.encode()):
        raise SignatureRejected(f"Unknown auth_key: {params['auth_key']}")
    if params["auth_version"] != AUTH_VERSION:
        raise SignatureRejected(f"Unsupported auth_version: {params['auth_version']}")
    try:
        timestamp = int(params["auth_timestamp"])
    except ValueError:
        raise SignatureRejected("auth_timestamp must be seconds since the epoch") from None
    if abs(now - timestamp) > TIMESTAMP_WINDOW_SECONDS:
        raise SignatureRejected(
            f"Timestamp expired: Given timestamp ({_when(timestamp)}) not within"
            f" {TIMESTAMP_WINDOW_SECONDS}s of server time ({_when(now)})"
        )
    # A body must be covered by the signature: its MD5 is then a signed parameter.
    given_md5 = params.get("body_md5")
    if (body or given_md5 is not None) and not hmac.compare_digest(
        (given_md5 or "").encode(), body_md5(body).encode()
    ):
        raise SignatureRejected("The body_md5 parameter does not match the MD5 of the body")
    expected = sign(secret, method, path, params)
    if not hmac.compare_digest(expected.encode(), params["auth_signature"].encode()):
        raise SignatureRejected(
            "Invalid signature: Expected HMAC SHA256 hex digest of"
            f" {string_to_sign(method, path, params)}, but got {params['auth_signature']}"
        )
