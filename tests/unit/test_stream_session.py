"""A stream session driven step by step without HTTP (replay, reset, live in id order), and
by its response."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest

from herald_common.stream_frames import TOKEN_EXPIRED
from herald_notifier.api.event_stream import EventStreamResponse
from herald_notifier.domain.delivery import Delivery
from herald_notifier.domain.gap_reads import GapReads
from herald_notifier.domain.inbox import Scope, UnreadCount, Watchers
from herald_notifier.domain.opening import Start
from herald_notifier.domain.progress import DeliveryTally
from herald_notifier.domain.registry import Registry
from herald_notifier.domain.stream_session import RESET, StreamContext, StreamSession
from herald_notifier.domain.subscriber import Subscriber
from herald_notifier.domain.unread import UNREAD_COUNT, Recount
from herald_notifier.metrics import NotifierMetrics

PUSHED = "herald.notification.pushed"
ALLOCATION = "6f1c1b8e-1111-4e2e-9d55-2b1d5d0a2f10"


def note(event_id: int, employee: str = "E1", previous: int | None = None) -> Delivery:
    data = json.dumps({"id": str(event_id), "data": {"employee_id": employee}})
    # A push to the department: its watchers may see it.
    return Delivery(
        event_id, PUSHED, employee, "Sales", data, previous_id=previous, department_visible=True
    )


class FakeInbox:
    """The committed notifications, read as the real inbox reads them."""

    def __init__(self, rows: list[Delivery], *, reads_late_commits: bool = True) -> None:
        self.rows = rows
        # Whether a read under way sees rows committed after it began (as paging does).
        self.reads_late_commits = reads_late_commits
        # Reads made for live gap reads (several streams at once).
        self.watcher_reads = 0

    def commit(self, *rows: Delivery) -> None:
        self.rows.extend(rows)

    def _in(self, scope: Scope, after_id: int) -> list[Delivery]:
        # Several streams' scopes at once for a shared gap read (Watchers).
        own = {scope.employee_id, *getattr(scope, "employee_ids", ())}
        return sorted(
            (
                d
                for d in self.rows
                if (
                    d.employee_id in own
                    or (d.department_visible and d.department in scope.departments)
                )
                and (d.event_id or 0) > after_id
            ),
            key=lambda d: d.event_id or 0,
        )

    async def latest_id(self, scope: Scope) -> int:
        return max((d.event_id or 0 for d in self._in(scope, 0)), default=0)

    async def missed_more_than(self, scope: Scope, after_id: int, limit: int) -> bool:
        return len(self._in(scope, after_id)) > limit

    async def after(
        self, scope: Scope, after_id: int, until: int | None = None
    ) -> AsyncIterator[Delivery]:
        if isinstance(scope, Watchers):
            self.watcher_reads += 1
        snapshot = self._in(scope, after_id)
        cursor = after_id
        while True:
            rows = self._in(scope, cursor) if self.reads_late_commits else snapshot
            found = next((d for d in rows if (d.event_id or 0) > cursor), None)
            if found is None or (until is not None and (found.event_id or 0) > until):
                return
            cursor = found.event_id or 0
            yield found

    async def unread_counts(self, employee_ids: list[str]) -> dict[str, UnreadCount]:
        """Every committed row counts as unread here."""
        return {
            e: UnreadCount(
                sum(d.employee_id == e for d in self.rows),
                max((d.event_id or 0 for d in self.rows if d.employee_id == e), default=0),
            )
            for e in employee_ids
        }


class FakeOpenings:
    """Where an own stream starts, read from the same committed rows as `FakeInbox`."""

    def __init__(self, inbox: FakeInbox, replay_limit: int) -> None:
        self.inbox = inbox
        self.replay_limit = replay_limit

    async def start(self, employee_id: str, last_event_id: int | None) -> Start:
        own = Scope(employee_id, frozenset())
        latest = await self.inbox.latest_id(own)
        missed = 0 if last_event_id is None else len(self.inbox._in(own, last_event_id))
        unread = (await self.inbox.unread_counts([employee_id]))[employee_id].unread
        return Start(latest, min(missed, self.replay_limit + 1), unread)


class Harness:
    def __init__(
        self,
        inbox: FakeInbox,
        last_event_id: int | None,
        *,
        replay_limit: int = 100,
        subscriber: Subscriber | None = None,
    ) -> None:
        self.inbox = inbox
        self.registry = Registry()
        self.metrics = NotifierMetrics()
        self.tally = DeliveryTally(self.registry, "replica-a", interval_seconds=1)
        self.subscriber = subscriber or Subscriber("E1", "Sales", 100)
        # Employees whose count a stream asked to have read again.
        self.recounts: list[str] = []
        context = StreamContext(
            inbox=inbox,  # type: ignore[arg-type]
            openings=FakeOpenings(inbox, replay_limit),  # type: ignore[arg-type]
            registry=self.registry,
            metrics=self.metrics,
            tally=self.tally,
            retry_ms=3000,
            replay_limit=replay_limit,
            gap_reads=GapReads(inbox, self.metrics),  # type: ignore[arg-type]
            recount=self.recounts.append,
        )
        self.session = StreamSession(context, self.subscriber, last_event_id)

    def metric(self, name: str, **labels: str) -> float:
        value = self.metrics.registry.get_sample_value(name, labels)
        assert value is not None, name
        return value

    async def replay(self) -> list[bytes]:
        return [chunk async for chunk in self.session.replay()]

    def arrive(self, delivery: Delivery) -> None:
        """A notification commits, then its event reaches the streams."""
        self.inbox.commit(delivery)
        self.registry.dispatch(delivery)


def frames(chunks: list[bytes]) -> list[dict[str, str]]:
    """Each SSE frame's fields (comments as `:`), in order."""
    parsed = []
    for block in b"".join(chunks).decode().split("\n\n"):
        if not block:
            continue
        fields: dict[str, str] = {}
        for line in block.split("\n"):
            name, _, value = line.partition(":")
            fields[name or ":"] = value.strip()
        parsed.append(fields)
    return parsed


def ids(chunks: list[bytes]) -> list[int]:
    return [int(f["id"]) for f in frames(chunks) if f.get("event") == PUSHED]


async def test_open_registers_before_the_replay_and_close_unregisters():
    harness = Harness(FakeInbox([]), None)
    harness.session.open()
    assert harness.registry.streams_of("E1") == 1
    assert harness.metric("herald_notifier_open_streams") == 1
    harness.session.close()
    assert harness.registry.size == 0
    assert harness.metric("herald_notifier_open_streams") == 0


async def test_close_gives_back_the_slot_reserved_for_the_stream():
    harness = Harness(FakeInbox([]), None)
    assert harness.registry.reserve("E1", 1)
    harness.session.open()
    assert not harness.registry.reserve("E1", 1)
    harness.session.close()
    assert harness.registry.slots_taken("E1") == 0
    assert harness.registry.reserve("E1", 1)


async def test_a_fresh_stream_names_the_newest_id_and_replays_nothing():
    harness = Harness(FakeInbox([note(1), note(2), note(3, employee="E2")]), None)
    chunks = await harness.replay()
    connected, unread = frames(chunks)
    assert connected == {":": "connected", "id": "2", "retry": "3000"}
    assert (unread["event"], json.loads(unread["data"])) == (UNREAD_COUNT, {"unread": 2})


async def test_replay_sends_what_came_after_the_last_event_id_then_the_unread_count():
    harness = Harness(FakeInbox([note(n) for n in range(1, 6)]), last_event_id=2)
    chunks = await harness.replay()
    assert chunks[0] == b": connected\nretry: 3000\n\n"  # no id: the client keeps its own
    assert ids(chunks) == [3, 4, 5]
    assert frames(chunks)[-1]["event"] == UNREAD_COUNT
    assert harness.metric("herald_notifier_replay_events_sum") == 3
    assert harness.metric("herald_notifier_deliveries_total", path="replay") == 3


async def test_more_missed_than_the_replay_limit_sends_reset_and_goes_on_from_the_newest():
    harness = Harness(FakeInbox([note(n) for n in range(1, 11)]), 2, replay_limit=3)
    harness.session.open()
    chunks = await harness.replay()
    [reset] = [f for f in frames(chunks) if f.get("event") == RESET]
    assert reset["id"] == "10"  # the client resumes after everything it reloads
    assert json.loads(reset["data"]) == {
        "reason": "too many missed events",
        "limit": 3,
        "inbox": "/v1/notifications",
    }
    assert ids(chunks) == []  # no backlog
    assert harness.metric("herald_notifier_replay_resets_total") == 1
    # Live goes on after the reset's id: older events are not sent again.
    harness.registry.dispatch(note(9, previous=8))
    harness.registry.dispatch(note(11, previous=10))
    live = harness.session.live()
    assert ids([await asyncio.wait_for(anext(live), 1)]) == [11]
    await live.aclose()


@pytest.mark.parametrize("reads_late_commits", [True, False])
async def test_replay_then_live_sends_every_id_once_in_order(reads_late_commits):
    inbox = FakeInbox([note(n) for n in range(1, 6)], reads_late_commits=reads_late_commits)
    harness = Harness(inbox, last_event_id=2)
    harness.session.open()  # registered first: what commits during the replay comes live too
    sent: list[bytes] = []
    async for chunk in harness.session.replay():
        sent.append(chunk)
        if ids([chunk]) == [3]:
            # Mid-replay: 6 and 7 commit and are published; 4 is published again.
            inbox.commit(note(6, previous=5), note(7, previous=6))
            for delivery in (note(4, previous=3), note(6, previous=5), note(7, previous=6)):
                harness.registry.dispatch(delivery)
    harness.arrive(note(8, previous=7))
    live = harness.session.live()
    # One write: what was offered during the replay and not replayed, then 8.
    sent.append(await asyncio.wait_for(anext(live), 1))
    await live.aclose()
    assert ids(sent) == [3, 4, 5, 6, 7, 8]
    assert harness.metric("herald_notifier_gap_reads_total") == 0


async def test_a_live_event_after_a_gap_reads_the_inbox_up_to_it_first():
    inbox = FakeInbox([note(1)])
    harness = Harness(inbox, last_event_id=1)
    harness.session.open()
    await harness.replay()
    # 2 and 3 committed, but 3's event arrives before 2's.
    inbox.commit(note(2, previous=1), note(3, previous=2))
    harness.registry.dispatch(note(3, previous=2))
    live = harness.session.live()
    first = await asyncio.wait_for(anext(live), 1)
    assert ids([first]) == [2, 3]  # one write, in id order
    harness.registry.dispatch(note(2, previous=1))  # late: already sent from the inbox
    harness.arrive(note(4, previous=3))
    assert ids([await asyncio.wait_for(anext(live), 1)]) == [4]
    await live.aclose()
    assert harness.metric("herald_notifier_gap_reads_total") == 1
    assert harness.metric("herald_notifier_deliveries_total", path="inbox") == 2


async def test_an_event_in_hand_without_an_inbox_row_is_still_sent_in_order():
    inbox = FakeInbox([])
    harness = Harness(inbox, last_event_id=0)
    harness.session.open()
    await harness.replay()
    # No previous id said, and no row behind 5 (a producer that wrote none): sent anyway.
    inbox.commit(note(4))
    harness.registry.dispatch(note(5))
    harness.registry.dispatch(note(4))
    live = harness.session.live()
    assert ids([await asyncio.wait_for(anext(live), 1)]) == [4, 5]
    await live.aclose()


async def test_one_inbox_read_covers_everything_offered_so_far():
    inbox = FakeInbox([])
    harness = Harness(inbox, last_event_id=0)
    harness.session.open()
    await harness.replay()
    inbox.commit(note(1), note(2), note(3))
    for event_id in (1, 2, 3):
        harness.registry.dispatch(note(event_id))  # no previous id said: each is in doubt
    live = harness.session.live()
    assert ids([await asyncio.wait_for(anext(live), 1)]) == [1, 2, 3]
    await live.aclose()
    assert harness.metric("herald_notifier_gap_reads_total") == 1


async def test_a_department_watcher_does_not_trust_an_employees_previous_id():
    watcher = Subscriber("M1", "Sales", 100, departments=frozenset({"Sales"}))
    inbox = FakeInbox([note(1, employee="E1")])
    harness = Harness(inbox, last_event_id=1, subscriber=watcher)
    harness.session.open()
    await harness.replay()
    # E2's 3 follows E2's previous (none here), but E1's 2 may be on its way to the watcher.
    inbox.commit(note(2, employee="E1", previous=1), note(3, employee="E2", previous=0))
    harness.registry.dispatch(note(3, employee="E2", previous=0))
    live = harness.session.live()
    assert ids([await asyncio.wait_for(anext(live), 1)]) == [2, 3]
    await live.aclose()


async def test_a_burst_to_many_watchers_reads_the_inbox_once_and_each_sends_it_in_order():
    inbox = FakeInbox([])
    first = Harness(inbox, last_event_id=0, subscriber=watcher("M0"))
    sessions = [first.session] + [
        StreamSession(first.session._context, watcher(f"M{i}"), 0) for i in range(1, 50)
    ]
    for session in sessions:
        session.open()
        [chunk async for chunk in session.replay()]
    burst = [note(n, employee=f"E{n}", previous=0) for n in range(1, 11)]
    inbox.commit(*burst)
    for delivery in reversed(burst):  # out of id order, as from several partitions
        first.registry.dispatch(delivery)
    lives = [session.live() for session in sessions]
    sent = await asyncio.wait_for(asyncio.gather(*(anext(live) for live in lives)), 1)
    for live in lives:
        await live.aclose()
    assert [ids([chunk]) for chunk in sent] == [list(range(1, 11))] * 50
    assert inbox.watcher_reads == 1
    assert first.metric("herald_notifier_gap_queries_total") == 1


async def test_a_watcher_never_gets_a_private_row_of_its_department_from_a_shared_read():
    inbox = FakeInbox([])
    harness = Harness(inbox, last_event_id=0, subscriber=watcher("M1"))
    harness.session.open()
    await harness.replay()
    private = Delivery(2, PUSHED, "E2", "Sales", json.dumps({"id": "2"}), previous_id=0)
    inbox.commit(note(1, employee="E1"), private, note(3, employee="E3"))
    harness.registry.dispatch(note(3, employee="E3"))  # private 2 is never offered to M1
    live = harness.session.live()
    assert ids([await asyncio.wait_for(anext(live), 1)]) == [1, 3]
    await live.aclose()


def watcher(employee: str) -> Subscriber:
    return Subscriber(employee, "Sales", 100, departments=frozenset({"Sales"}))


async def test_live_pings_passes_other_frames_on_and_ends_when_closed():
    harness = Harness(FakeInbox([]), last_event_id=None)
    harness.session.open()
    await harness.replay()
    live = harness.session.live()
    harness.subscriber.ping()
    assert await asyncio.wait_for(anext(live), 1) == b": ping\n\n"
    state = Delivery(None, "notification-state", "E1", "", '{"id": 1}')
    harness.registry.dispatch_to_employee("E1", state)
    assert frames([await asyncio.wait_for(anext(live), 1)])[0]["event"] == "notification-state"
    harness.subscriber.close()
    with pytest.raises(StopAsyncIteration):
        await asyncio.wait_for(anext(live), 1)


async def test_live_sends_nothing_once_the_token_expired_but_a_frame_saying_so():
    harness = Harness(FakeInbox([note(1)]), last_event_id=None)
    harness.session.open()
    await harness.replay()
    live = harness.session.live()
    clock = asyncio.get_running_loop().time
    harness.subscriber.expires_at = clock() + 0.05
    harness.registry.dispatch(note(2, previous=1))
    assert ids([await asyncio.wait_for(anext(live), 1)]) == [2]
    await asyncio.sleep(0.06)
    harness.registry.dispatch(note(3, previous=2))  # after the expiry: not sent
    [last] = frames([await asyncio.wait_for(anext(live), 1)])
    assert last["event"] == TOKEN_EXPIRED
    assert "id" not in last  # Last-Event-ID stays on 2: the reconnect replays 3
    assert "reconnect with Last-Event-ID" in json.loads(last["data"])["reason"]
    assert last["retry"] == "3000"
    with pytest.raises(StopAsyncIteration):
        await asyncio.wait_for(anext(live), 1)


async def test_the_replay_ends_with_the_delivered_count_of_watched_allocations():
    admin = Subscriber("A1", "HR", 100, allocations=frozenset({ALLOCATION}))
    harness = Harness(FakeInbox([]), last_event_id=None, subscriber=admin)
    harness.registry.add(Subscriber("E1", "Sales", 100))  # someone it was delivered to
    harness.tally.delivered(
        [Delivery(1, "herald.voucher.allocated", "E1", "Sales", "{}", ALLOCATION)]
    )
    chunks = await harness.replay()
    assert frames(chunks)[-1]["event"] == "herald.allocation.delivered"


async def test_live_goes_on_from_the_replay_so_it_cannot_start_first():
    harness = Harness(FakeInbox([]), last_event_id=None)
    with pytest.raises(RuntimeError, match="replay first"):
        await anext(harness.session.live())


async def _serve(harness: Harness, send) -> None:
    async def receive():
        await asyncio.Event().wait()  # the client stays connected

    response = EventStreamResponse(harness.session, subscriber=harness.subscriber)
    await response({"type": "http"}, receive, send)


async def test_the_response_opens_replays_goes_live_and_closes_the_session():
    inbox = FakeInbox([note(1), note(2)])
    harness = Harness(inbox, last_event_id=1)
    sent: list[bytes] = []

    async def send(message):
        sent.append(message.get("body", b""))

    serving = asyncio.create_task(_serve(harness, send))
    while not any(b"unread" in chunk for chunk in sent):  # the replay is through
        await asyncio.sleep(0)
    assert harness.registry.streams_of("E1") == 1
    harness.arrive(note(3, previous=2))
    while ids(sent) != [2, 3]:
        await asyncio.sleep(0)
    harness.subscriber.close()
    await asyncio.wait_for(serving, 1)
    assert sent[-1] == b""  # the response's end
    assert harness.registry.size == 0
    assert harness.metric("herald_notifier_open_streams") == 0


async def test_a_client_gone_mid_replay_closes_the_session():
    harness = Harness(FakeInbox([note(n) for n in range(1, 4)]), last_event_id=0)

    async def send(message):
        if b"id: 2" in message.get("body", b""):
            raise OSError("connection reset")

    await asyncio.wait_for(_serve(harness, send), 1)
    assert harness.registry.size == 0
    assert harness.metric("herald_notifier_open_streams") == 0


def unread_counts(chunks: list[bytes]) -> list[int]:
    return [json.loads(f["data"])["unread"] for f in frames(chunks) if f["event"] == UNREAD_COUNT]


async def live_stream(harness: Harness) -> AsyncIterator[bytes]:
    harness.session.open()
    await harness.replay()
    return harness.session.live()


async def test_an_own_event_leaves_with_the_count_it_raises_in_the_same_write():
    inbox = FakeInbox([note(1), note(2)])
    harness = Harness(inbox, last_event_id=None)
    live = await live_stream(harness)
    harness.arrive(note(3, previous=2))
    [write] = [await asyncio.wait_for(anext(live), 1)]
    assert [f.get("id") or f["event"] for f in frames([write])] == ["3", UNREAD_COUNT]
    assert unread_counts([write]) == [3]


async def test_events_of_one_write_raise_the_count_once_each_and_send_it_once():
    harness = Harness(FakeInbox([note(1)]), last_event_id=None)
    live = await live_stream(harness)
    for n in (2, 3, 4):
        harness.arrive(note(n, previous=n - 1))
    write = await asyncio.wait_for(anext(live), 1)
    assert ids([write]) == [2, 3, 4]
    assert unread_counts([write]) == [4]


async def test_a_gap_filled_from_the_inbox_counts_each_own_row_it_sends():
    inbox = FakeInbox([note(1)])
    harness = Harness(inbox, last_event_id=None)
    live = await live_stream(harness)
    inbox.commit(note(2, previous=1), note(3, previous=2))
    harness.registry.dispatch(note(3, previous=2))  # 2 is still on its way: read from the inbox
    write = await asyncio.wait_for(anext(live), 1)
    assert ids([write]) == [2, 3]
    assert unread_counts([write]) == [3]


async def test_a_watchers_count_moves_only_with_its_own_employees_events():
    manager = Subscriber("M1", "Sales", 100, departments=frozenset({"Sales"}))
    inbox = FakeInbox([note(1, employee="M1")])
    harness = Harness(inbox, last_event_id=None, subscriber=manager)
    live = await live_stream(harness)
    harness.arrive(note(2, employee="E1", previous=0))
    write = await asyncio.wait_for(anext(live), 1)
    assert ids([write]) == [2]
    assert unread_counts([write]) == []
    harness.arrive(note(3, employee="M1", previous=1))
    assert unread_counts([await asyncio.wait_for(anext(live), 1)]) == [2]


async def test_a_recount_replaces_the_count_and_keeps_own_events_sent_after_it():
    inbox = FakeInbox([note(1), note(2)])
    harness = Harness(inbox, last_event_id=None)
    live = await live_stream(harness)
    harness.arrive(note(3, previous=2))
    assert unread_counts([await asyncio.wait_for(anext(live), 1)]) == [3]
    # Counted after a read mark, before 3 committed: 3 is still unread on top of it.
    harness.registry.dispatch_to_employee("E1", Recount("E1", UnreadCount(0, 2)))
    assert unread_counts([await asyncio.wait_for(anext(live), 1)]) == [1]
    assert harness.recounts == []


async def test_a_recount_older_than_the_count_held_is_asked_for_again_and_not_sent():
    harness = Harness(FakeInbox([note(1), note(2)]), last_event_id=None)
    live = await live_stream(harness)
    written = asyncio.ensure_future(anext(live))
    harness.registry.dispatch_to_employee("E1", Recount("E1", UnreadCount(0, 1)))
    for _ in range(10):
        await asyncio.sleep(0)
    assert harness.recounts == ["E1"]
    harness.subscriber.ping()  # the next write: nothing came of the recount
    assert await asyncio.wait_for(written, 1) == b": ping\n\n"
