"""Herald's inbox as the Pusher channels see it: what a channel missed, its watermark, and
an employee's unread count.

private-employee-<id> replays that employee's notifications, private-department-<name>
the department's; private-allocation-<id> carries live progress only (nothing to replay).
The watermark is the highest notification id a client of the channel confirmed (a pong
after the write): the cursor of a client that sends none (docs/decisions/0057).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

from psycopg import AsyncConnection, sql
from psycopg_pool import AsyncConnectionPool

from herald_common.auth.channels import Channel
from herald_common.db import fetch_one
from herald_common.notifications import REPLAY_COLUMNS, UNREAD, replayed_event


@dataclass(frozen=True, slots=True)
class Missed:
    notification_id: int
    kind: str
    data: bytes  # the CloudEvent, as the live event carries it


# Which notifications a channel replays: an employee's all of theirs; a department's only
# those visible to the department, as the SSE stream's watchers (docs/decisions/0051).
_WHERE = {
    "employee": sql.SQL("employee_id = %s"),
    "department": sql.SQL("department = %s AND department_visible"),
}


def replays(channel: Channel) -> bool:
    return channel.kind in _WHERE


class ChannelInbox:
    def __init__(self, pool: AsyncConnectionPool[AsyncConnection], page_size: int) -> None:
        self._pool = pool
        self._page_size = page_size

    async def latest_id(self, channel: Channel) -> int:
        # The rows alone (no view): max() then reads the primary key backwards.
        query = sql.SQL(
            "SELECT coalesce(max(id), 0) FROM notifications_per_employee WHERE {}"
        ).format(_WHERE[channel.kind])
        row = await fetch_one(self._pool, query, (channel.key,))
        return 0 if row is None else int(row[0])

    async def after(self, channel: Channel, after_id: int, until: int) -> AsyncIterator[Missed]:
        """The channel's notifications with ids in (after_id, until], in id order."""
        # The lean rows and their contents (docs/decisions/0066), the payload built here.
        query = sql.SQL(
            "SELECT {} FROM notifications_per_employee r"
            " JOIN notification_contents c ON c.id = r.content_id"
            " WHERE {} AND r.id > %s AND r.id <= %s ORDER BY r.id LIMIT %s"
        ).format(sql.SQL(REPLAY_COLUMNS), _WHERE[channel.kind])
        cursor = after_id
        while True:
            async with self._pool.connection() as conn:
                rows = await (
                    await conn.execute(query, (channel.key, cursor, until, self._page_size))
                ).fetchall()
            for row in rows:
                yield Missed(row[0], row[1], replayed_event(row))
            if len(rows) < self._page_size:
                return
            cursor = rows[-1][0]

    async def unread(self, employee_id: str) -> int:
        row = await fetch_one(
            self._pool,
            sql.SQL(
                "SELECT count(*) FROM notifications_per_employee WHERE employee_id = %s AND {}"
            ).format(UNREAD),
            (employee_id,),
        )
        return 0 if row is None else int(row[0])

    async def watermark(self, channel: Channel) -> int:
        """The channel's watermark; a channel seen for the first time starts at its latest id."""
        latest = await self.latest_id(channel)
        row = await fetch_one(
            self._pool,
            "INSERT INTO channel_watermarks (channel, delivered_id) VALUES (%s, %s)"
            " ON CONFLICT (channel) DO UPDATE SET channel = EXCLUDED.channel"
            " RETURNING delivered_id",
            (channel.name, latest),
        )
        return latest if row is None else int(row[0])

    async def confirm(self, channel: str, delivered_id: int) -> None:
        """A client of `channel` confirmed every notification up to `delivered_id`."""
        async with self._pool.connection() as conn:
            await conn.execute(
                "INSERT INTO channel_watermarks (channel, delivered_id) VALUES (%s, %s)"
                " ON CONFLICT (channel) DO UPDATE SET"
                " delivered_id = greatest(channel_watermarks.delivered_id, EXCLUDED.delivered_id),"
                " updated_at = now()",
                (channel, delivered_id),
            )
