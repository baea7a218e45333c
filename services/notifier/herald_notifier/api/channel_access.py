"""Channels a caller names and may read: a name that does not parse is a 400, a channel the
caller may not read a 403, for the stream and for channel authorization alike."""

from __future__ import annotations

from fastapi import HTTPException

from herald_common.auth.channels import Channel, InvalidChannel, can_read, parse_channel
from herald_common.auth.principal import Principal


def channel_named(name: str) -> Channel:
    try:
        return parse_channel(name)
    except InvalidChannel as exc:
        raise HTTPException(400, str(exc)) from exc


def require_readable(principal: Principal, channel: Channel) -> None:
    if not can_read(principal, channel):
        raise HTTPException(403, f"not allowed to read {channel.name}")
