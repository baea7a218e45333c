"""The channels replica's consumer: what it cannot hand to sockets is dead-lettered once, with
its reason, and the records after it are still read."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

import pytest

from herald_channels.domain.consumer import ChannelsConsumer, UnreadCounts
from herald_channels.domain.hub import Hub
from herald_channels.domain.protocol import MEMBER_ADDED
from herald_channels.metrics import ChannelsMetrics
from herald_common.events import SOURCE_INSERTER, encode, envelope
from herald_common.pusher.broadcast import channel_event, to_record
from tests.support.dead_letters import RecordedClaims

BROADCAST, PUSHED, COMPLETED = "t.channels.broadcast", "t.notification.pushed", "t.completed"
MAX_BYTES = 10_000


@dataclass
class Record:
    offset: int
    value: bytes | None
    key: bytes | None = b"k"
    headers: list[tuple[str, bytes | None]] = field(default_factory=list)


@dataclass(frozen=True)
class Partition:
    topic: str
    partition: int = 0


class OneFetch:
    """A Kafka consumer that hands over one fetch, then nothing."""

    def __init__(self, records: dict[Partition, list[Record]]) -> None:
        self._fetches = [records]

    async def getmany(self, timeout_ms: int) -> dict[Partition, list[Record]]:
        if self._fetches:
            return self._fetches.pop()
        await asyncio.sleep(timeout_ms / 1000)
        return {}


def consumer(kafka: Any = None) -> tuple[ChannelsConsumer, RecordedClaims]:
    hub = Hub()
    dead_letters = RecordedClaims()
    built = ChannelsConsumer(
        kafka,
        broadcast_topic=BROADCAST,
        employee_topics={PUSHED: "herald.notification.pushed"},
        progress_topic=COMPLETED,
        hub=hub,
        unread=UnreadCounts(hub, inbox=None),  # type: ignore[arg-type]
        metrics=ChannelsMetrics(),
        dead_letters=dead_letters,  # type: ignore[arg-type]
        max_record_bytes=MAX_BYTES,
    )
    return built, dead_letters


def broadcast(event: str = "greeting", data: str = '{"hello": 1}') -> bytes:
    return to_record(channel_event(["public-room"], event, data))[1]


def per_employee(event_id: str) -> bytes:
    data = {"employee_id": "E1", "department": "D", "title": "t", "body": "b"}
    return encode(
        envelope(
            event_id=event_id,
            source=SOURCE_INSERTER,
            event_type="herald.notification.pushed",
            data=data,
        )
    )


def test_a_valid_broadcast_is_handled():
    channels, _ = consumer()
    assert channels.handle(BROADCAST, 0, Record(1, broadcast())) is None


def test_presence_data_without_a_user_id_is_rejected_with_the_exception_not_skipped():
    """Valid by the broadcast's schema (data is any string); the presence handler raised
    KeyError, which was logged and the record silently dropped."""
    channels, _ = consumer()
    value = broadcast(MEMBER_ADDED, json.dumps({"user_info": {}}))
    assert channels.handle(BROADCAST, 0, Record(1, value)) == "KeyError: 'user_id'"


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (b'\xff\xfe{"specversion"', "JSON"),
        (json.dumps({**json.loads(broadcast()), "specversion": "0.3"}).encode(), "specversion"),
        (json.dumps({**json.loads(broadcast()), "data": {"kind": "x"}}).encode(), "data"),
        (None, "record has no value"),
    ],
)
def test_a_record_that_is_no_broadcast_is_rejected_with_its_reason(value, reason):
    channels, _ = consumer()
    found = channels.handle(BROADCAST, 0, Record(1, value))
    assert found is not None
    assert reason in found, found


def test_an_oversized_record_is_rejected_unread():
    channels, _ = consumer()
    found = channels.handle(BROADCAST, 0, Record(1, broadcast(data="x" * MAX_BYTES)))
    assert found is not None
    assert "accepts at most 10,000" in found


def test_herald_headers_given_twice_are_rejected():
    channels, _ = consumer()
    headers: list[tuple[str, bytes | None]] = [("herald.x", b"1"), ("herald.x", b"2")]
    found = channels.handle(BROADCAST, 0, Record(1, broadcast(), headers=headers))
    assert found == "header herald.x appears more than once"


def test_a_per_employee_event_id_too_long_for_int_is_rejected_not_raised():
    channels, _ = consumer()
    found = channels.handle(PUSHED, 0, Record(1, per_employee("9" * 5000)))
    assert found is not None
    assert found.startswith("ValueError"), found


def test_a_per_employee_event_without_a_notification_id_is_rejected():
    """It was skipped without a word: now the notifiers' reason, whoever sends it."""
    channels, _ = consumer()
    found = channels.handle(PUSHED, 0, Record(1, per_employee("abc")))
    assert found == "event id 'abc' is not a notification id"


def test_a_completion_that_is_no_json_object_is_rejected_not_raised():
    """A JSON array made the progress handler raise AttributeError, logged and dropped."""
    channels, _ = consumer()
    found = channels.handle(COMPLETED, 0, Record(1, b"[1, 2]"))
    assert found is not None
    assert "invalid allocation event" in found, found


async def test_run_dead_letters_each_rejected_record_once_and_reads_on():
    bad, good = Record(7, b"not json"), Record(8, broadcast())
    kafka = OneFetch({Partition(BROADCAST, 2): [bad, good]})
    channels, dead_letters = consumer(kafka)
    task = asyncio.create_task(channels.run())
    try:
        async with asyncio.timeout(5):
            while not dead_letters.sent:
                await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)
    finally:
        task.cancel()
    ((record, reason),) = dead_letters.sent
    assert (record.topic, record.partition, record.offset) == (BROADCAST, 2, 7)
    assert "invalid channel broadcast" in reason
    assert channels._metrics.broadcasts._value.get() == 1  # the good one was read
