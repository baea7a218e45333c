"""An allocation request written in a transaction that aborts, then one that commits.

What a consumer reading read_committed must pass over: the inserter (on either of its
paths, docs/decisions/0042) must never act on the first and must complete the second.
"""

from __future__ import annotations

import uuid

from aiokafka import AIOKafkaProducer

from bench.workload import allocation_request
from herald_allocation.domain.outbox import request_record
from herald_common.events import ALLOCATION_REQUESTED, CONTENT_TYPE, SOURCE_ALLOCATION, Criteria
from herald_common.kafka import connection_options
from tests.conftest import HeraldEnv


def _request(env: HeraldEnv, department: str) -> tuple[uuid.UUID, bytes]:
    """A request as the allocation service writes it: its id, and the record's value."""
    request = allocation_request(Criteria(departments=[department]))
    record = request_record(
        env.topics.allocation_requested,
        request.allocation_id,
        source=SOURCE_ALLOCATION,
        event_type=ALLOCATION_REQUESTED,
        time=request.requested_at,
        data=request,
    )
    return request.allocation_id, record.value


async def abort_then_commit(env: HeraldEnv, department: str) -> tuple[uuid.UUID, uuid.UUID]:
    """Request an allocation to `department` in an aborted transaction, then another in a
    committed one, on the same partition; (the aborted id, the committed id)."""
    (aborted, aborted_value), (committed, committed_value) = (
        _request(env, department),
        _request(env, department),
    )
    topic, key = env.topics.allocation_requested, b"same-partition"
    headers = [("content-type", CONTENT_TYPE.encode())]
    producer = AIOKafkaProducer(
        **connection_options(env.kafka), transactional_id=f"aborting-{aborted}"
    )
    await producer.start()
    try:
        await producer.begin_transaction()
        await producer.send_and_wait(topic, aborted_value, key, headers=headers)
        await producer.abort_transaction()
        # Same key, same partition: once this one is done, the aborted one was passed over.
        async with producer.transaction():
            await producer.send_and_wait(topic, committed_value, key, headers=headers)
    finally:
        await producer.stop()
    return aborted, committed
