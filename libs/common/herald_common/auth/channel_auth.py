"""Pusher-style channel authorization: `<key>:<hex HMAC-SHA256(secret, socket_id:channel)>`."""

from __future__ import annotations

import hashlib
import hmac
import re
from typing import Final

SOCKET_ID_PATTERN: Final = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")


def sign(key: str, secret: str, socket_id: str, channel_name: str) -> str:
    digest = hmac.new(
        secret.encode(), f"{socket_id}:{channel_name}".encode(), hashlib.sha256
    ).hexdigest()
    return f"{key}:{digest}"


def verify(key: str, secret: str, socket_id: str, channel_name: str, auth: str) -> bool:
    """Constant-time check of a signature produced by `sign`."""
    expected = sign(key, secret, socket_id, channel_name)
    return hmac.compare_digest(expected.encode(), auth.encode())
