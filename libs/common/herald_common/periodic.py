"""A round of work repeated at an interval, whose failed rounds are logged, not fatal.

For loops whose every round stands alone (send what is pending, refresh a gauge): a
dependency that is away fails a round, and the next round tries again. Such a loop never
ends by itself, so the supervisor's readiness stays green while Kafka or PostgreSQL is
away; a loop that must stop on failure belongs under the supervisor directly.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from herald_common.dead_letter import describe

logger = logging.getLogger(__name__)


async def every(interval: float, what: str, work: Callable[[], Awaitable[None]]) -> None:
    """Runs `work` now and then every `interval` seconds, until cancelled."""
    while True:
        try:
            await work()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            logger.warning("%s round failed: %s", what, describe(exc))
        await asyncio.sleep(interval)
