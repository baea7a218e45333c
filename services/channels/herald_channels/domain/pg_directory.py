"""The directory in PostgreSQL: one row per subscribed socket, tagged with its replica.

Presence is counted per user: a join inserts the socket's row and counts the user's rows
in the same transaction, under an advisory lock on (channel, user), so two sockets of one
user joining on two replicas at once still make exactly one member_added (and leaving,
one member_removed). Each replica heartbeats its row in channel_replicas; rows of a
replica not seen for the timeout are removed by any other (`prune`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from psycopg import AsyncConnection
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

from herald_channels.domain.directory import Member

_LOCK = "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))"


class PgDirectory:
    def __init__(self, pool: AsyncConnectionPool[AsyncConnection], replica_id: str) -> None:
        self._pool = pool
        self.replica_id = replica_id

    async def register(self) -> None:
        """This replica is alive, and holds no socket yet (a restart's leftovers go)."""
        async with self._pool.connection() as conn:
            await conn.execute(
                "INSERT INTO channel_replicas (replica_id) VALUES (%s)"
                " ON CONFLICT (replica_id) DO UPDATE SET seen_at = now()",
                (self.replica_id,),
            )
            await conn.execute(
                "DELETE FROM channel_subscriptions WHERE replica_id = %s", (self.replica_id,)
            )

    async def heartbeat(self) -> None:
        async with self._pool.connection() as conn:
            await conn.execute(
                "INSERT INTO channel_replicas (replica_id) VALUES (%s)"
                " ON CONFLICT (replica_id) DO UPDATE SET seen_at = now()",
                (self.replica_id,),
            )

    async def deregister(self) -> None:
        async with self._pool.connection() as conn:
            await conn.execute(
                "DELETE FROM channel_subscriptions WHERE replica_id = %s", (self.replica_id,)
            )
            await conn.execute(
                "DELETE FROM channel_replicas WHERE replica_id = %s", (self.replica_id,)
            )

    async def prune(self, timeout_seconds: float) -> list[tuple[str, Member]]:
        """Remove the rows of replicas gone silent; the presence members that left with them."""
        async with self._pool.connection() as conn:
            rows = await (
                await conn.execute(
                    "WITH gone AS (DELETE FROM channel_replicas"
                    "  WHERE seen_at < now() - make_interval(secs => %s) RETURNING replica_id)"
                    " DELETE FROM channel_subscriptions s USING gone"
                    " WHERE s.replica_id = gone.replica_id"
                    " RETURNING s.channel, s.user_id, s.user_info",
                    (timeout_seconds,),
                )
            ).fetchall()
            left: list[tuple[str, Member]] = []
            for channel, user_id, user_info in {(c, u, json.dumps(i)) for c, u, i in rows if u}:
                remaining = await (
                    await conn.execute(
                        "SELECT 1 FROM channel_subscriptions WHERE channel = %s AND user_id = %s"
                        " LIMIT 1",
                        (channel, user_id),
                    )
                ).fetchone()
                if remaining is None:
                    left.append((channel, Member(user_id, json.loads(user_info))))
        return left

    async def subscribe(self, channel: str, socket_id: str, member: Member | None) -> bool:
        async with self._pool.connection() as conn, conn.transaction():
            if member is not None:
                await conn.execute(_LOCK, (f"{channel}\n{member.user_id}",))
            await conn.execute(
                "INSERT INTO channel_subscriptions"
                " (channel, socket_id, replica_id, user_id, user_info)"
                " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (channel, socket_id) DO NOTHING",
                (
                    channel,
                    socket_id,
                    self.replica_id,
                    None if member is None else member.user_id,
                    None if member is None else Jsonb(member.user_info),
                ),
            )
            if member is None:
                return False
            row = await (
                await conn.execute(
                    "SELECT count(*) FROM channel_subscriptions"
                    " WHERE channel = %s AND user_id = %s",
                    (channel, member.user_id),
                )
            ).fetchone()
            return row is not None and row[0] == 1

    async def unsubscribe(self, channel: str, socket_id: str) -> Member | None:
        async with self._pool.connection() as conn, conn.transaction():
            found = await (
                await conn.execute(
                    "SELECT user_id FROM channel_subscriptions WHERE channel = %s"
                    " AND socket_id = %s",
                    (channel, socket_id),
                )
            ).fetchone()
            if found is None:
                return None
            user_id = found[0]
            if user_id is not None:
                await conn.execute(_LOCK, (f"{channel}\n{user_id}",))
            row = await (
                await conn.execute(
                    "DELETE FROM channel_subscriptions WHERE channel = %s AND socket_id = %s"
                    " RETURNING user_info",
                    (channel, socket_id),
                )
            ).fetchone()
            if row is None or user_id is None:
                return None
            remaining = await (
                await conn.execute(
                    "SELECT 1 FROM channel_subscriptions WHERE channel = %s AND user_id = %s"
                    " LIMIT 1",
                    (channel, user_id),
                )
            ).fetchone()
            return Member(user_id, row[0]) if remaining is None else None

    async def occupancy(self, channel: str) -> int:
        async with self._pool.connection() as conn:
            row = await (
                await conn.execute(
                    "SELECT count(*) FROM channel_subscriptions WHERE channel = %s", (channel,)
                )
            ).fetchone()
        return 0 if row is None else int(row[0])

    async def occupied(self, prefix: str = "") -> dict[str, int]:
        async with self._pool.connection() as conn:
            rows = await (
                await conn.execute(
                    "SELECT channel, count(*) FROM channel_subscriptions"
                    " WHERE starts_with(channel, %s) GROUP BY channel ORDER BY channel",
                    (prefix,),
                )
            ).fetchall()
        return {channel: int(count) for channel, count in rows}

    async def members(self, channel: str) -> Sequence[Member]:
        async with self._pool.connection() as conn:
            rows = await (
                await conn.execute(
                    "SELECT DISTINCT ON (user_id) user_id, user_info FROM channel_subscriptions"
                    " WHERE channel = %s AND user_id IS NOT NULL ORDER BY user_id",
                    (channel,),
                )
            ).fetchall()
        return [Member(user_id, info) for user_id, info in rows]
