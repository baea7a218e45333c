"""This replica in the directory: a heartbeat, and the removal of replicas gone silent
(their sockets are gone; their presence members leave, each once)."""

from __future__ import annotations

import asyncio
import json

from herald_channels.domain.directory import Broadcaster
from herald_channels.domain.pg_directory import PgDirectory
from herald_common.pusher.broadcast import channel_event


async def keep_alive(
    directory: PgDirectory, broadcaster: Broadcaster, timeout_seconds: float
) -> None:
    interval = timeout_seconds / 3
    while True:
        await directory.heartbeat()
        for channel, member in await directory.prune(timeout_seconds):
            await broadcaster.publish(
                channel_event(
                    [channel],
                    "pusher_internal:member_removed",
                    json.dumps({"user_id": member.user_id}),
                )
            )
        await asyncio.sleep(interval)
