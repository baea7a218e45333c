"""LISTEN for read-mark changes made by the API (PostgreSQL NOTIFY, any replica)."""

from __future__ import annotations

import asyncio
import logging

import psycopg

from herald_common.notifications import INBOX_CHANNEL
from herald_notifier.domain.unread import UnreadCounter

logger = logging.getLogger(__name__)


async def listen_for_read_marks(conninfo: str, counter: UnreadCounter) -> None:
    """Runs until cancelled; reconnects with backoff when the database goes away."""
    delay = 0.5
    while True:
        try:
            async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as conn:
                await conn.execute(f"LISTEN {INBOX_CHANNEL}")
                delay = 0.5
                async for notify in conn.notifies():
                    counter.mark(notify.payload)
        except psycopg.OperationalError as exc:
            logger.warning("inbox listener lost its connection (%s); retrying in %.1fs", exc, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 15)
