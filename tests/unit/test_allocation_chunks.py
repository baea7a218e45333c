"""The allocation processor drives a chunked write (docs/decisions/0068): one Kafka
transaction per chunk, progress after each, the completion only with the last, and a chunk
found written but unpublished is read back and published again. The store and the
publisher are stand-ins that record what happens in which transaction."""

from __future__ import annotations

from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from herald_common.events import AllocationProgress, AllocationRequested
from herald_common.retry import RetryPolicy
from herald_inserter.domain.allocation_store import Chunk, chunks_total
from herald_inserter.domain.allocations import AllocationProcessor
from herald_inserter.domain.claims import WriteOutcome
from herald_inserter.domain.inbox_writer import IssuedNotification
from herald_inserter.metrics import InserterMetrics
from tests.support.requests import allocation_request


def chunk(number: int, total: int, first: int, rows: int, step: str = "written") -> Chunk:
    return Chunk(
        number=number,
        total=total,
        last=number == total,
        matched=total * rows,
        inserted=number * rows,
        first_id=first,
        last_id=first + rows - 1,
        step=step,  # type: ignore[arg-type]
    )


def issued(first: int, rows: int) -> list[IssuedNotification]:
    return [IssuedNotification(first + n, f"E{first + n}", "Sales", "{}", 0) for n in range(rows)]


class ScriptedStore:
    """Answers each write with the next outcome; records the chunks marked published."""

    def __init__(self, outcomes: list[WriteOutcome], reloaded: list[IssuedNotification]) -> None:
        self._outcomes = outcomes
        self._reloaded = reloaded
        self.marked: list[int] = []
        self.completed = False

    async def write(self, request: AllocationRequested, publish: Any, *, source: str) -> Any:
        outcome = self._outcomes.pop(0)
        if outcome.inserted_now:
            sent = await publish(outcome.notifications, outcome.created_at)
            return WriteOutcome(
                outcome.status,
                outcome.created_at,
                outcome.notifications,
                True,
                sent,
                chunk=outcome.chunk,
            )
        return outcome

    async def load_chunk(self, allocation_id: Any, found: Chunk) -> Any:
        return datetime.now(UTC), self._reloaded

    async def mark_chunk_published(self, allocation_id: Any, done: Chunk) -> None:
        self.marked.append(done.number)

    async def mark_published(self, allocation_id: Any, published: int) -> None:
        pass

    async def mark_completed(self, allocation_id: Any) -> None:
        self.completed = True


class RecordingPublisher:
    """Which events went into which transaction, and the progress sent outside them."""

    def __init__(self) -> None:
        self.transactions: list[list[str]] = []
        self.progress: list[AllocationProgress] = []

    @asynccontextmanager
    async def transaction(self):
        self.transactions.append([])
        yield self

    async def publish_notifications(self, topic, notifications, **_: Any) -> int:
        ids = [n.notification_id for n in notifications]
        self.transactions[-1].append(f"events {ids[0]}-{ids[-1]}")
        return len(ids)

    async def publish_progress(self, progress: AllocationProgress) -> None:
        self.progress.append(progress)

    async def publish_final_progress(self, progress: AllocationProgress) -> None:
        self.transactions[-1].append(f"progress {progress.phase}")

    async def publish_completed(self, completed: Any) -> None:
        self.transactions[-1].append(f"completed {completed.published}")


def processor(store: ScriptedStore, publisher: RecordingPublisher) -> AllocationProcessor:
    return AllocationProcessor(
        store,  # type: ignore[arg-type]
        publisher,  # type: ignore[arg-type]
        InserterMetrics(),
        "vouchers",
        RetryPolicy(1, 0.01, 0.01),
    )


def written(number: int, total: int, first: int, rows: int) -> WriteOutcome:
    return WriteOutcome(
        "inserting",
        datetime.now(UTC),
        issued(first, rows),
        True,
        chunk=chunk(number, total, first, rows),
    )


async def test_each_chunk_is_its_own_transaction_and_the_last_carries_the_completion():
    store = ScriptedStore([written(1, 3, 100, 2), written(2, 3, 200, 2), written(3, 3, 300, 2)], [])
    publisher = RecordingPublisher()
    await processor(store, publisher).process(allocation_request("Sales"))
    assert publisher.transactions == [
        ["events 100-101"],
        ["events 200-201"],
        ["events 300-301", "progress published", "completed 6"],
    ]
    assert store.marked == [1, 2, 3]
    assert store.completed


async def test_a_progress_event_follows_each_chunk_but_the_last():
    store = ScriptedStore([written(1, 3, 100, 2), written(2, 3, 200, 2), written(3, 3, 300, 2)], [])
    publisher = RecordingPublisher()
    await processor(store, publisher).process(allocation_request("Sales"))
    chunks = [(p.chunks_done, p.chunks_total, p.published) for p in publisher.progress]
    phases = [p.phase for p in publisher.progress]
    assert phases == ["chunk", "chunk", "inserted"]
    assert chunks == [(1, 3, 2), (2, 3, 4), (2, 3, 4)]


async def test_a_chunk_written_before_is_read_back_and_published_again():
    unpublished = WriteOutcome(
        "inserting", datetime.now(UTC), [], False, chunk=chunk(2, 3, 200, 2, "unpublished")
    )
    store = ScriptedStore([unpublished, written(3, 3, 300, 2)], issued(200, 2))
    publisher = RecordingPublisher()
    await processor(store, publisher).process(allocation_request("Sales"))
    assert publisher.transactions[0] == ["events 200-201"]
    assert store.marked == [2, 3]


async def test_an_allocation_whose_chunks_are_all_published_only_completes():
    done = WriteOutcome(
        "published", datetime.now(UTC), [], False, chunk=chunk(3, 3, 300, 2, "published")
    )
    store = ScriptedStore([done], [])
    publisher = RecordingPublisher()
    await processor(store, publisher).process(allocation_request("Sales"))
    assert publisher.transactions == [["progress published", "completed 6"]]
    assert store.completed


async def test_a_completed_allocation_sends_nothing():
    store = ScriptedStore([WriteOutcome("completed", datetime.now(UTC), [], False)], [])
    publisher = RecordingPublisher()
    await processor(store, publisher).process(allocation_request("Sales"))
    assert publisher.transactions == [[]]
    assert store.marked == []
    assert not store.completed


def test_chunks_total_counts_the_first_chunk_then_full_chunks():
    assert chunks_total(25, 3, 10) == 4


def test_chunks_total_of_recipients_within_the_first_chunk_is_one():
    assert chunks_total(3, 3, 10) == 1


def test_chunks_total_with_the_first_chunk_as_large_as_the_rest():
    assert chunks_total(100_000, 10_000, 10_000) == 10
