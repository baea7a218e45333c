"""A large allocation, end to end through the inserter, in chunks (docs/decisions/0068):
each chunk's employees hear once it commits, watchers get a progress event per chunk, and
a push sent meanwhile goes between two chunks instead of after the whole allocation.

A Herald of its own (database, topics, allocation API and an inserter with chunks of
CHUNK employees), so the chunk size touches no other test.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from herald_common.events import ALLOCATION_PROGRESS
from tests.conftest import HeraldEnv, allocation_process, inserter_process, isolated_env
from tests.reliability.workload import allocate, push, seed_employees
from tests.support.api import wait_push, wait_until_finished
from tests.support.processes import free_port
from tests.support.topic_reader import committed_events, high_watermarks
from tests.support.waiting import eventually

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

CHUNK = 1_000


@pytest.fixture(scope="module")
def chunk_env(infra, tmp_path_factory: pytest.TempPathFactory) -> Iterator[HeraldEnv]:
    with isolated_env(infra, Path(tmp_path_factory.mktemp("chunk-logs"))) as env:
        yield env


@pytest.fixture(scope="module")
def chunk_api(chunk_env: HeraldEnv) -> Iterator[str]:
    """The allocation API's URL, with an inserter writing chunks of CHUNK employees."""
    allocation_port, inserter_port = free_port(), free_port()
    allocation = allocation_process(chunk_env, allocation_port).start()
    inserter = inserter_process(
        chunk_env, inserter_port, {"HERALD_INSERTER_CHUNK_EMPLOYEES": str(CHUNK)}
    ).start()
    url = f"http://127.0.0.1:{allocation_port}"
    try:
        allocation.wait_http(f"{url}/readyz")
        inserter.wait_http(f"http://127.0.0.1:{inserter_port}/healthz")
        yield url
    finally:
        inserter.stop()
        allocation.stop()


def chunks(database_url: str, allocation_id: str) -> tuple[int, int]:
    """(chunks published, chunks expected) of the allocation, from its row."""
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "SELECT chunks_published, chunks_total FROM allocations WHERE id = %s",
            (allocation_id,),
        ).fetchone()
    return (row[0], row[1]) if row else (0, 0)


async def test_each_chunk_commits_and_reports_its_progress(chunk_env, chunk_api):
    seed_employees(chunk_env, "CP", ["Chunk-Progress"], 5_500)
    topic = chunk_env.topics.allocation_completed
    since = await high_watermarks(chunk_env.kafka, topic)
    allocation_id = await allocate(chunk_env, chunk_api, ["Chunk-Progress"], "Chunks")
    async with httpx.AsyncClient(base_url=chunk_api, headers=chunk_env.admin) as api:
        finished = await wait_until_finished(api, allocation_id, timeout=120)
    assert finished["status"] == "completed", finished
    assert finished["counts"] == {"matched": 5_500, "inserted": 5_500, "published": 5_500}
    assert finished["chunks"] == {"done": 6, "total": 6}

    def ours(event: dict[str, Any]) -> bool:
        return event["type"] == ALLOCATION_PROGRESS and event["subject"] == allocation_id

    async def all_progress() -> list[dict[str, Any]]:
        return [e["data"] for e in await committed_events(chunk_env.kafka, topic, since) if ours(e)]

    # Progress goes out unawaited, outside the transactions: give the last ones a moment.
    progress: list[dict[str, Any]] = []

    async def arrived() -> bool:
        progress[:] = await all_progress()
        return len(progress) >= 7

    await eventually(arrived, 30, "a progress event per chunk")
    per_chunk = [
        (p["chunks_done"], p["chunks_total"], p["published"])
        for p in progress
        if p["phase"] == "chunk"
    ]
    assert per_chunk == [(n, 6, n * CHUNK) for n in range(1, 6)]
    final = [p for p in progress if p["phase"] == "published"]
    assert [(p["chunks_done"], p["chunks_total"], p["published"]) for p in final] == [(6, 6, 5_500)]


async def test_a_push_during_a_large_allocation_goes_between_its_chunks(chunk_env, chunk_api):
    seed_employees(chunk_env, "CQ", ["Chunk-Push-Big"], 40_000)
    allocation_id = await allocate(chunk_env, chunk_api, ["Chunk-Push-Big"], "Big")
    await eventually(
        lambda: asyncio.to_thread(lambda: chunks(chunk_env.database_url, allocation_id)[0] >= 2),
        120,
        "two chunks published",
    )
    sent = time.monotonic()
    push_id = await push(chunk_env, chunk_api, ["CQ000001"], "During the allocation")
    async with httpx.AsyncClient(base_url=chunk_api, headers=chunk_env.admin) as api:
        pushed = await wait_push(api, push_id, timeout=60)
        latency = time.monotonic() - sent
        done_then, total = chunks(chunk_env.database_url, allocation_id)
        finished = await wait_until_finished(api, allocation_id, timeout=180)
    assert pushed["status"] == "completed", pushed
    assert finished["status"] == "completed", finished
    # It did not wait for the allocation: chunks were still to come when it completed.
    assert done_then < total == 40, (done_then, total, latency)
    with psycopg.connect(chunk_env.database_url) as conn:
        [(push_row,)] = conn.execute(
            "SELECT id FROM notifications WHERE push_id = %s", (push_id,)
        ).fetchall()
        [(after,)] = conn.execute(
            "SELECT count(*) FROM notifications WHERE allocation_id = %s AND id > %s",
            (allocation_id, push_row),
        ).fetchall()
    assert after > 0
    # The aim is 1 s (one chunk's write at most); this busy machine gets slack.
    assert latency < 5, latency
