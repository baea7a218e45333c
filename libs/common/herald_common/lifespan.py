"""A service's lifespan: what it opens and runs, and all of it closed in reverse on exit.

Resources go on the lifespan's AsyncExitStack as they open, so a failure half-way through
the start closes what was already open, and a stop closes everything, newest first. The
background tasks go on it too, through herald_common.supervisor, so they stop before what
they use is closed.
"""

from __future__ import annotations

import contextlib

from aiokafka import AIOKafkaProducer
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool


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
