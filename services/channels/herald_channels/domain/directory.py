"""Who is subscribed where, across every replica: occupancy, presence members, and the
cross-replica acts (a channel event, terminating a user's connections).

A socket lives on one replica, but the HTTP API (`GET /apps/{id}/channels...`,
`terminate_connections`) and presence (`member_added` once per user, not per socket) need
the whole picture. `Directory` answers from PostgreSQL (`PgDirectory`); `Broadcaster`
reaches every replica's sockets through Kafka (domain/broadcaster.py). Decision 0056.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from herald_common.pusher.broadcast import ChannelBroadcast, terminate


@dataclass(frozen=True, slots=True)
class Member:
    """A presence channel's member: the user, however many sockets they hold."""

    user_id: str
    user_info: Any = None


class Directory(Protocol):
    async def subscribe(self, channel: str, socket_id: str, member: Member | None) -> bool:
        """Record the subscription; True when `member` is new to the channel (member_added)."""
        ...

    async def unsubscribe(self, channel: str, socket_id: str) -> Member | None:
        """Forget it; the member whose last socket this was (member_removed), else None."""
        ...

    async def occupancy(self, channel: str) -> int:
        """Subscribed sockets, every replica together."""
        ...

    async def occupied(self, prefix: str = "") -> dict[str, int]:
        """Every channel (starting with `prefix`) with a subscriber, and its socket count."""
        ...

    async def members(self, channel: str) -> Sequence[Member]:
        """A presence channel's members, one per user."""
        ...


class Broadcaster(Protocol):
    async def publish(self, broadcast: ChannelBroadcast) -> None:
        """Deliver `broadcast` to the sockets of every replica (this one included)."""
        ...


async def terminate_connections(broadcaster: Broadcaster, user_id: str) -> None:
    """Close every connection signed in as `user_id`, on whichever replica it is."""
    await broadcaster.publish(terminate(user_id))
