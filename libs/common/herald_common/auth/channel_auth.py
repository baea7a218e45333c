"""Pusher-style channel and user authorization.

A private channel's auth is `<key>:<hex HMAC-SHA256(secret, socket_id:channel)>`; a presence
channel's (or any channel's, when the answer carries channel_data) signs
`socket_id:channel:channel_data`; a user's sign-in signs `socket_id::user::user_data`.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from typing import Final

SOCKET_ID_PATTERN: Final = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")


def _signed(key: str, secret: str, message: str) -> str:
    digest = hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()
    return f"{key}:{digest}"


def sign(
    key: str, secret: str, socket_id: str, channel_name: str, channel_data: str | None = None
) -> str:
    message = f"{socket_id}:{channel_name}"
    if channel_data is not None:
        message = f"{message}:{channel_data}"
    return _signed(key, secret, message)


def verify(
    key: str,
    secret: str,
    socket_id: str,
    channel_name: str,
    auth: str,
    channel_data: str | None = None,
) -> bool:
    """Constant-time check of a signature produced by `sign`."""
    expected = sign(key, secret, socket_id, channel_name, channel_data)
    return hmac.compare_digest(expected.encode(), auth.encode())


def sign_user(key: str, secret: str, socket_id: str, user_data: str) -> str:
    """A `pusher:signin`'s auth: signs `socket_id::user::user_data`."""
    return _signed(key, secret, f"{socket_id}::user::{user_data}")


def verify_user(key: str, secret: str, socket_id: str, user_data: str, auth: str) -> bool:
    expected = sign_user(key, secret, socket_id, user_data)
    return hmac.compare_digest(expected.encode(), auth.encode())
