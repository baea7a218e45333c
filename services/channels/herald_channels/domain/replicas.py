"""This replica in the directory: a heartbeat, and the removal of replicas gone silent
(their sockets are gone; their presence members leave, each once)."""

from __future__ import annotations

import json

from herald_channels.domain import protocol
from herald_channels.domain.directory import Broadcaster
from herald_channels.domain.pg_directory import PgDirectory
from herald_common.periodic import every
from herald_common.pusher.broadcast import channel_event


async def keep_alive(
    directory: PgDirectory, broadcaster: Broadcaster, timeout_seconds: float
) -> None:
    """Heartbeats three times per timeout; a round that fails (PostgreSQL away) is retried."""

    async def round_() -> None:
        await directory.heartbeat()
        for channel, member in await directory.prune(timeout_seconds):
            await broadcaster.publish(
                channel_event(
                    [channel],
                    protocol.MEMBER_REMOVED,
                    json.dumps({"user_id": member.user_id}),
                )
            )

    await every(timeout_seconds / 3, "channels directory heartbeat", round_)
