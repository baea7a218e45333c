"""Notifications published, and written, the way the inserter does it (decision 0033).

`inserter_publisher` is the inserter's `EventPublisher` on a transactional producer of the
run; `write_and_publish` writes one batch of rows under the writer lock (ids and previous
ids drawn in the transaction) and sends their events while the rows are written. The
caller holds both transactions: the database commits first, then Kafka, as in the inserter.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from uuid import UUID, uuid4

from psycopg import AsyncConnection

from bench.environment import BenchRun
from bench.workload import BODY, TITLE, voucher_text
from herald_common.events import SOURCE_INSERTER, VOUCHER_ALLOCATED
from herald_common.inbox_writes import take_writer_lock
from herald_common.kafka import create_producer
from herald_inserter.domain.inbox_writer import (
    CHOSEN_RECIPIENTS,
    IssuedNotification,
    Visibility,
    copy_notifications,
    issue_notifications,
)
from herald_inserter.domain.publisher import EventPublisher
from herald_inserter.domain.transactions import TransactionalProducer


@asynccontextmanager
async def inserter_publisher(run: BenchRun, name: str) -> AsyncIterator[EventPublisher]:
    """The inserter's publisher: events in Kafka transactions of a producer of its own."""
    transactional = TransactionalProducer(
        lambda: create_producer(
            run.kafka,
            client_id=f"herald-bench-{name}",
            transactional_id=f"{run.topics.prefix}bench-{name}-{uuid4().hex[:8]}",
        ),
        timeout_seconds=60,
    )
    progress = create_producer(run.kafka, client_id=f"herald-bench-{name}-progress")
    await transactional.start()
    await progress.start()
    try:
        yield EventPublisher(
            transactional,
            completed_topic=run.topics.allocation_completed,
            progress_producer=progress,
        )
    finally:
        await transactional.stop()
        await progress.stop()


async def write_and_publish(
    conn: AsyncConnection,
    publisher: EventPublisher,
    topic: str,
    recipients: Sequence[str],
    allocation_id: UUID,
    first_serial: int,
    visibility: Visibility = "private",
) -> tuple[list[IssuedNotification], int]:
    """One voucher row per recipient, written and its event sent; (rows, events sent).

    Call it inside `publisher.transaction()` and `conn.transaction()`.
    """
    created_at = datetime.now(UTC)
    await take_writer_lock(conn)
    found = await (await conn.execute(CHOSEN_RECIPIENTS, (list(recipients),))).fetchall()
    rows = await issue_notifications(
        conn,
        found,
        (
            voucher_text(allocation_id, emp, dept, first_serial + i)
            for i, (emp, dept, _) in enumerate(found)
        ),
    )
    await copy_notifications(
        conn,
        rows,
        kind=VOUCHER_ALLOCATED,
        source=SOURCE_INSERTER,
        created_at=created_at,
        title=TITLE,
        body=BODY,
        allocation_id=allocation_id,
        visibility=visibility,
    )
    # Each row names the employee's previous one, so a stream sends it at once instead
    # of reading the inbox first.
    sent = await publisher.publish_notifications(
        topic,
        rows,
        kind=VOUCHER_ALLOCATED,
        source=SOURCE_INSERTER,
        created_at=created_at,
        allocation_id=allocation_id,
        visibility=visibility,
    )
    return rows, sent
