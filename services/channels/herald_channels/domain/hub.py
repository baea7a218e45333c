"""This replica's sockets by channel and by signed-in user: where a broadcast or a Herald
notification that reached this replica is written."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from herald_channels.domain.connection import Connection


class Hub:
    def __init__(self) -> None:
        self._channels: dict[str, set[Connection]] = defaultdict(set)
        self._users: dict[str, set[Connection]] = defaultdict(set)
        self._connections: set[Connection] = set()

    def __len__(self) -> int:
        return len(self._connections)

    def __iter__(self) -> Iterator[Connection]:
        return iter(list(self._connections))

    def add(self, connection: Connection) -> None:
        self._connections.add(connection)

    def remove(self, connection: Connection) -> None:
        self._connections.discard(connection)
        for channel in list(connection.channels):
            self.leave(channel, connection)
        if connection.user_id is not None:
            self._forget_user(connection.user_id, connection)

    def join(self, channel: str, connection: Connection) -> None:
        self._channels[channel].add(connection)

    def leave(self, channel: str, connection: Connection) -> None:
        subscribers = self._channels.get(channel)
        if subscribers is not None:
            subscribers.discard(connection)
            if not subscribers:
                del self._channels[channel]

    def signed_in(self, user_id: str, connection: Connection) -> None:
        self._users[user_id].add(connection)

    def _forget_user(self, user_id: str, connection: Connection) -> None:
        connections = self._users.get(user_id)
        if connections is not None:
            connections.discard(connection)
            if not connections:
                del self._users[user_id]

    def has(self, channel: str) -> bool:
        return channel in self._channels

    def subscribers(self, channel: str) -> list[Connection]:
        return list(self._channels.get(channel, ()))

    def send(self, channel: str, text: str, exclude_socket_id: str | None = None) -> int:
        """Write `text` to the channel's sockets here but the excluded one; how many."""
        sent = 0
        for connection in self._channels.get(channel, ()):
            if connection.socket_id != exclude_socket_id:
                connection.send(text)
                sent += 1
        return sent

    def users_connections(self, user_id: str) -> list[Connection]:
        return list(self._users.get(user_id, ()))
