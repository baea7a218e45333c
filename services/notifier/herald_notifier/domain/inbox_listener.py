"""LISTEN for read-mark changes made by the API (PostgreSQL NOTIFY, any replica)."""

from __future__ import annotations

import logging

import psycopg

from herald_common.notifications import INBOX_CHANNEL
from herald_common.retry import Backoff, is_transient
from herald_notifier.domain.unread import UnreadCounter

logger = logging.getLogger(__name__)


async def listen_for_read_marks(conninfo: str, counter: UnreadCounter) -> None:
    """Runs until cancelled; reconnects with backoff when the database goes away."""
    backoff = Backoff(initial_seconds=0.5, max_seconds=15)
    while True:
        try:
            async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as conn:
                await conn.execute(f"LISTEN {INBOX_CHANNEL}")
                backoff.reset()
                async for notify in conn.notifies():
                    counter.mark(notify.payload)
        except Exception as exc:
            if not is_transient(exc):
                raise
            logger.warning(
                "inbox listener lost its connection (%s); retrying in %.1fs", exc, backoff.delay
            )
            await backoff.wait()
