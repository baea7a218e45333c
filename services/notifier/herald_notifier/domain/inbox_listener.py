"""LISTEN for inbox changes made by the API (PostgreSQL NOTIFY, any replica).

`herald_inbox` names an employee whose unread count may have changed; `herald_inbox_state`
carries one item's new state (or a read-all), passed on to that employee's streams here,
so their other tabs and devices follow (docs/decisions/0050).
"""

from __future__ import annotations

import logging

import psycopg

from herald_common.notifications import INBOX_CHANNEL, INBOX_STATE_CHANNEL, parse_inbox_state
from herald_common.retry import Backoff, is_transient
from herald_notifier.domain.delivery import Delivery
from herald_notifier.domain.registry import Registry
from herald_notifier.domain.unread import UnreadCounter

logger = logging.getLogger(__name__)


def pass_on_state(registry: Registry, payload: str) -> None:
    """One state notice to its employee's streams on this replica."""
    state = parse_inbox_state(payload)
    if state is None:
        logger.warning("ignored an inbox state notice that is not one: %.200r", payload)
        return
    event, data = state.stream_event()
    registry.dispatch_to_employee(
        state.employee_id, Delivery(None, event, state.employee_id, "", data)
    )


async def listen_for_read_marks(conninfo: str, counter: UnreadCounter, registry: Registry) -> None:
    """Runs until cancelled; reconnects with backoff when the database goes away."""
    backoff = Backoff(initial_seconds=0.5, max_seconds=15)
    while True:
        try:
            async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as conn:
                await conn.execute(f"LISTEN {INBOX_CHANNEL}")
                await conn.execute(f"LISTEN {INBOX_STATE_CHANNEL}")
                backoff.reset()
                # Read marks made while nothing listened went unheard: every stream here
                # has its count read again (streams keep their counts, decision 0086).
                counter.mark_all(s.employee_id for s in registry.subscribers())
                async for notify in conn.notifies():
                    if notify.channel == INBOX_STATE_CHANNEL:
                        pass_on_state(registry, notify.payload)
                    else:
                        counter.mark(notify.payload)
        except Exception as exc:
            if not is_transient(exc):
                raise
            logger.warning(
                "inbox listener lost its connection (%s); retrying in %.1fs", exc, backoff.delay
            )
            await backoff.wait()
