"""The record every channels replica reads to reach the sockets it holds.

A socket lives on one replica, but what it should hear (an event triggered through the HTTP
API, a client event, a presence member joining, a user's connections being terminated)
starts on any of them. Each such act is one CloudEvent on the broadcast topic
(herald_common.catalogue.CHANNEL_BROADCAST_TOPIC), keyed by its first channel (or the
user), and every replica reads every partition without a group, live (decision 0056).
Nothing here is durable: Herald's own notifications go through the inbox, not this topic.
"""

from __future__ import annotations

import secrets
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, model_validator

from herald_common.events import (
    CHANNEL_BROADCAST,
    SOURCE_CHANNELS,
    CloudEvent,
    encode,
    envelope,
)


class ChannelBroadcast(BaseModel):
    """`event`: an event for every subscriber of `channels` except `exclude_socket_id`.
    `terminate`: close every connection signed in as `user_id`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["event", "terminate"] = "event"
    channels: list[str] = Field(default_factory=list, max_length=100)
    event: str | None = Field(default=None, min_length=1, max_length=200)
    # The event's data as the client receives it: a string (JSON text, usually).
    data: str | None = None
    # The sender's socket (a client event, or the HTTP API's socket_id): not sent back to it.
    exclude_socket_id: str | None = None
    # terminate: whose connections; a client event on a presence channel: who sent it.
    user_id: str | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _complete(self) -> Self:
        if self.kind == "event" and (not self.channels or self.event is None or self.data is None):
            raise ValueError("an event names its channels, event and data")
        if self.kind == "terminate" and self.user_id is None:
            raise ValueError("a termination names the user_id")
        return self


def channel_event(
    channels: list[str],
    event: str,
    data: str,
    *,
    exclude_socket_id: str | None = None,
    user_id: str | None = None,
) -> ChannelBroadcast:
    return ChannelBroadcast(
        channels=channels,
        event=event,
        data=data,
        exclude_socket_id=exclude_socket_id,
        user_id=user_id,
    )


def terminate(user_id: str) -> ChannelBroadcast:
    return ChannelBroadcast(kind="terminate", user_id=user_id)


_EVENT: TypeAdapter[CloudEvent[ChannelBroadcast]] = TypeAdapter(CloudEvent[ChannelBroadcast])


def to_record(broadcast: ChannelBroadcast) -> tuple[bytes, bytes]:
    """The record's key and value."""
    key = broadcast.channels[0] if broadcast.channels else broadcast.user_id or ""
    value = encode(
        envelope(
            event_id=secrets.token_hex(12),
            source=SOURCE_CHANNELS,
            event_type=CHANNEL_BROADCAST,
            data=broadcast.model_dump(mode="json", exclude_none=True),
        )
    )
    return key.encode(), value


def from_record(value: bytes) -> ChannelBroadcast:
    """Raises pydantic.ValidationError for a record that is not a broadcast."""
    return _EVENT.validate_json(value).data
