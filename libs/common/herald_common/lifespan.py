"""A service's lifespan: what it opens and runs, and all of it closed in reverse on exit.

Resources go on the lifespan's AsyncExitStack as they open, so a failure half-way through
the start closes what was already open, and a stop closes everything, newest first.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine
from typing import Any

from aiokafka import AIOKafkaProducer
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

logger = logging.getLogger(__name__)


async def open_pool_and_producer(
    resources: contextlib.AsyncExitStack,
    pool: AsyncConnectionPool[AsyncConnection],
    producer: AIOKafkaProducer,
) -> None:
    """PostgreSQL, then Kafka: both closed with `resources`.

    The pool waits for its connections, so a service does not start without PostgreSQL.
    """
    await pool.open(wait=True)
    resources.push_async_callback(pool.close)
    await producer.start()
    resources.push_async_callback(producer.stop)


def run_in_background(
    resources: contextlib.AsyncExitStack, name: str, work: Coroutine[Any, Any, None]
) -> asyncio.Task[None]:
    """Run `work` as the task `name` until `resources` close, then cancel it and wait.

    A task that stops by itself with an error is logged at once, since nothing awaits it
    until shutdown (which then does not raise it again). Tasks stop in the reverse order
    of their start, before what `resources` held when they started (the pool, the
    producer) is closed.
    """
    task = asyncio.create_task(work, name=name)
    task.add_done_callback(_log_crash)
    resources.push_async_callback(_cancel, task)
    return task


async def _cancel(task: asyncio.Task[None]) -> None:
    task.cancel()
    # A crash was logged when it happened; shutdown goes on to close the rest.
    await asyncio.gather(task, return_exceptions=True)


def _log_crash(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        logger.error("%s stopped", task.get_name(), exc_info=task.exception())
