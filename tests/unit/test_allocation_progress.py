"""Allocation progress: the events, how the notifier routes them, and the delivered count."""

import asyncio
import json
import uuid

import pytest

from herald_common.events import (
    ALLOCATION_COMPLETED,
    ALLOCATION_DELIVERED,
    ALLOCATION_PROGRESS,
    ALLOCATION_SUMMARY,
    SOURCE_INSERTER,
    VOUCHER_ALLOCATED,
    AllocationCompleted,
    AllocationProgress,
    encode,
    envelope,
    event_type,
)
from herald_inserter.domain.publisher import EventPublisher
from herald_mailer.domain.processor import CompletionProcessor
from herald_notifier.domain.consumer import InvalidEvent, decode_delivery, decode_progress
from herald_notifier.domain.delivery import Delivery
from herald_notifier.domain.progress import TRACKED_ALLOCATIONS, DeliveryTally
from herald_notifier.domain.registry import Registry
from herald_notifier.domain.subscriber import Subscriber

ALLOCATION = uuid.UUID("6f1c1b8e-1111-4e2e-9d55-2b1d5d0a2f10")


def progress_event(phase: str = "inserted") -> bytes:
    return encode(
        envelope(
            event_id=f"{ALLOCATION}:progress:{phase}",
            source=SOURCE_INSERTER,
            event_type=ALLOCATION_PROGRESS,
            subject=str(ALLOCATION),
            data=AllocationProgress(
                allocation_id=ALLOCATION, phase=phase, matched=3, inserted=3, published=0
            ),
        )
    )


def completed_event() -> bytes:
    return encode(
        envelope(
            event_id=f"{ALLOCATION}:completed",
            source=SOURCE_INSERTER,
            event_type=ALLOCATION_COMPLETED,
            data=AllocationCompleted(
                allocation_id=ALLOCATION, status="completed", matched=3, inserted=3, published=3
            ),
        )
    )


def voucher_event(notification_id: int, employee: str, kind: str = VOUCHER_ALLOCATED) -> bytes:
    return encode(
        envelope(
            event_id=str(notification_id),
            source=SOURCE_INSERTER,
            event_type=kind,
            data={
                "allocation_id": str(ALLOCATION),
                "employee_id": employee,
                "department": "Sales",
                "title": "New voucher: Winter bonus",
            },
        )
    )


def test_event_type_reads_the_cloudevents_type_or_nothing():
    assert event_type(progress_event()) == ALLOCATION_PROGRESS
    assert event_type(completed_event()) == ALLOCATION_COMPLETED
    assert event_type(None) is None
    assert event_type(b"not json") is None
    assert event_type(b"[1, 2]") is None
    assert event_type(b'{"type": 7}') is None


@pytest.mark.parametrize(
    ("value", "kind"),
    [(progress_event(), ALLOCATION_PROGRESS), (completed_event(), ALLOCATION_COMPLETED)],
)
def test_progress_and_completion_both_reach_the_allocation_channel(value, kind):
    allocation_id, delivery = decode_progress(value)
    assert allocation_id == str(ALLOCATION)
    assert delivery.event_type == kind
    assert delivery.event_id is None  # never moves Last-Event-ID
    assert delivery.data == value


@pytest.mark.parametrize(
    "value",
    [
        None,
        b"{not json",
        # A progress event whose data is a completion's, and the reverse.
        progress_event().replace(b'"phase":"inserted"', b'"status":"completed"'),
        completed_event().replace(b'"status":"completed"', b'"phase":"inserted"'),
        progress_event().replace(b'"phase":"inserted"', b'"phase":"guessed"'),
    ],
)
def test_malformed_progress_is_rejected(value):
    with pytest.raises(InvalidEvent):
        decode_progress(value)


def test_voucher_events_name_their_allocation_other_kinds_do_not():
    assert decode_delivery(voucher_event(5, "E1")).allocation_id == str(ALLOCATION)
    # A manager's summary carries the allocation id too, but it is not a delivered voucher.
    assert decode_delivery(voucher_event(6, "M1", ALLOCATION_SUMMARY)).allocation_id is None


def delivery(employee: str, allocation: str | None = str(ALLOCATION)) -> Delivery:
    return Delivery(1, VOUCHER_ALLOCATED, employee, "Sales", "{}", allocation_id=allocation)


async def test_tally_counts_employees_reached_and_throttles_frames():
    registry = Registry()
    watcher = Subscriber("HR1", "HR", 100, allocations=frozenset({str(ALLOCATION)}))
    ann, bob = Subscriber("E1", "Sales", 100), Subscriber("E2", "Sales", 100)
    for s in (watcher, ann, bob):
        registry.add(s)
    tally = DeliveryTally(registry, "replica-a", interval_seconds=0.2)
    runner = asyncio.create_task(tally.run())
    try:
        # E3 has no stream here
        tally.delivered([delivery(employee) for employee in ("E1", "E2", "E3")])
        assert tally.count(str(ALLOCATION)) == 2

        (frame,) = await asyncio.wait_for(watcher.take(), 2)
        assert frame.event_type == ALLOCATION_DELIVERED
        assert frame.event_id is None
        body = json.loads(frame.data)
        assert body["type"] == ALLOCATION_DELIVERED
        assert body["data"] == {
            "allocation_id": str(ALLOCATION),
            "delivered": 2,
            "replica": "replica-a",
        }
        # Two deliveries, one frame: the interval coalesces them.
        await asyncio.sleep(0.3)
        assert watcher._pending == []
    finally:
        runner.cancel()


async def test_tally_without_watchers_counts_silently_and_answers_on_connect():
    registry = Registry()
    registry.add(Subscriber("E1", "Sales", 10))
    tally = DeliveryTally(registry, "replica-a", interval_seconds=0.01)
    assert tally.frame_for(str(ALLOCATION)) is None
    tally.delivered([delivery("E1")])
    tally.delivered([delivery("E1", allocation=None)])
    frame = tally.frame_for(str(ALLOCATION))
    assert frame is not None
    assert json.loads(frame.data)["data"]["delivered"] == 1


def test_tally_reaches_only_employees_not_department_watchers():
    registry = Registry()
    manager = Subscriber("M1", "Sales", 10, departments=frozenset({"Sales"}))
    registry.add(manager)
    tally = DeliveryTally(registry, "replica-a", interval_seconds=1)
    tally.delivered([delivery("E1")])
    assert tally.count(str(ALLOCATION)) == 0


def test_tally_forgets_the_oldest_allocations_first():
    registry = Registry()
    registry.add(Subscriber("E1", "Sales", 10))
    tally = DeliveryTally(registry, "replica-a", interval_seconds=1)
    ids = [str(uuid.uuid4()) for _ in range(TRACKED_ALLOCATIONS + 1)]
    for allocation in ids:
        tally.delivered([delivery("E1", allocation)])
    assert tally.count(ids[0]) == 0
    assert tally.count(ids[-1]) == 1


class RecordingProducer:
    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes, bytes]] = []

    async def send(self, topic, *, key, value, headers):
        self.sent.append((topic, key, value))
        done: asyncio.Future[object] = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done


async def test_progress_is_keyed_like_the_completion():
    producer = RecordingProducer()
    # Progress goes through its own producer, outside the per-request transactions.
    publisher = EventPublisher(
        None,  # type: ignore[arg-type]
        completed_topic="p.herald.allocation.completed",
        progress_producer=producer,  # type: ignore[arg-type]
    )
    await publisher.publish_progress(
        AllocationProgress(
            allocation_id=ALLOCATION, phase="published", matched=3, inserted=3, published=3
        )
    )
    [(topic, key, value)] = producer.sent
    assert topic == "p.herald.allocation.completed"
    assert key == str(ALLOCATION).encode()
    event = json.loads(value)
    assert event["type"] == ALLOCATION_PROGRESS
    assert event["id"] == f"{ALLOCATION}:progress:published"
    assert event["data"]["published"] == 3


class FailingProducer:
    async def send(self, topic, *, key, value, headers):
        raise ConnectionError("broker unreachable")


async def test_unsent_progress_never_fails_the_allocation():
    publisher = EventPublisher(
        None,  # type: ignore[arg-type]
        completed_topic="t",
        progress_producer=FailingProducer(),  # type: ignore[arg-type]
    )
    await publisher.publish_progress(
        AllocationProgress(
            allocation_id=ALLOCATION, phase="inserted", matched=1, inserted=1, published=0
        )
    )


async def test_mailer_passes_over_progress_events():
    # Everything the processor would touch is absent: it must not get that far.
    processor = CompletionProcessor(None, None, None, None, None, None, None, None, None, 1 << 20)  # type: ignore[arg-type]
    record = type(
        "Record",
        (),
        {
            "value": progress_event(),
            "topic": "t",
            "partition": 0,
            "offset": 1,
            "key": b"k",
            "headers": (),
        },
    )()
    await processor.handle(record)


DEEPLY_NESTED = b"[" * 100_000


def test_event_type_of_json_nested_past_the_parser_stack_is_none():
    assert event_type(DEEPLY_NESTED) is None


def test_progress_nested_past_the_parser_stack_is_a_bad_record():
    with pytest.raises(InvalidEvent, match="not JSON"):
        decode_progress(DEEPLY_NESTED)
