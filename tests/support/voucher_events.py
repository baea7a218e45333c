"""One employee's voucher events, published as Herald's inserter publishes them.

For tests of the notifier on its own: no allocation, no inbox rows, just the per-employee
events on the topic (routing headers, previous ids), in one Kafka transaction per batch.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from uuid import uuid4

import psycopg

from bench.workload import issued
from herald_common.events import SOURCE_INSERTER, VOUCHER_ALLOCATED
from herald_common.kafka import create_producer
from herald_inserter.domain.publisher import EventPublisher
from herald_inserter.domain.transactions import TransactionalProducer
from tests.conftest import HeraldEnv


def new_employee(env: HeraldEnv, prefix: str, department: str) -> str:
    """An employee of `department` in the directory (a stream needs one); their id."""
    employee_id = f"{prefix}-{secrets.token_hex(3)}"
    with psycopg.connect(env.database_url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO employees (id, name, email, department, grade, hired_on)"
            " VALUES (%s, 'Test reader', %s, %s, 'G3', '2020-01-01')",
            (employee_id, f"{employee_id.lower()}@example.com", department),
        )
    return employee_id


class VoucherEvents:
    """Per-employee voucher events for one employee, a batch per transaction."""

    def __init__(self, env: HeraldEnv, employee_id: str, department: str) -> None:
        self._env = env
        self._employee = (employee_id, department)
        self._last_id = 0  # the previous id of the first event: none
        self._transactional = TransactionalProducer(
            lambda: create_producer(
                env.kafka,
                client_id="test-voucher-events",
                transactional_id=f"{env.topic_prefix}test-events-{uuid4().hex[:8]}",
            ),
            timeout_seconds=60,
        )
        self._progress = create_producer(env.kafka, client_id="test-voucher-events-progress")

    async def __aenter__(self) -> VoucherEvents:
        await self._transactional.start()
        await self._progress.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self._transactional.stop()
        await self._progress.stop()

    async def batch(self, count: int) -> None:
        publisher = EventPublisher(
            self._transactional,
            completed_topic=self._env.topics.allocation_completed,
            progress_producer=self._progress,
        )
        allocation_id = uuid4()
        first = self._last_id + 1
        # Each names the one before as the employee's previous notification, as the
        # inserter's do, so a stream sends them at once.
        events = [
            issued(n, *self._employee, allocation_id, n - 1) for n in range(first, first + count)
        ]
        self._last_id += count
        async with publisher.transaction():
            await publisher.publish_notifications(
                self._env.topics.voucher_allocated,
                events,
                kind=VOUCHER_ALLOCATED,
                source=SOURCE_INSERTER,
                created_at=datetime.now(UTC),
            )
