"""Live gap reads shared by the streams that need the same one (docs/decisions/0074)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest

from herald_notifier.domain.delivery import Delivery
from herald_notifier.domain.gap_reads import GapReads
from herald_notifier.domain.inbox import Scope, Watchers
from herald_notifier.metrics import NotifierMetrics

PUSHED = "herald.notification.pushed"
SALES = frozenset({"Sales"})


def row(event_id: int, employee: str, department: str = "Sales", *, visible: bool) -> Delivery:
    data = json.dumps({"id": str(event_id)})
    return Delivery(event_id, PUSHED, employee, department, data, department_visible=visible)


class CountingInbox:
    """Committed rows, read as `Inbox.after` reads several streams' scopes at once (the
    SQL of `Watchers.condition`: tests/integration/test_department_broadcast.py); counts
    its queries."""

    def __init__(self, rows: list[Delivery]) -> None:
        self.rows = rows
        self.queries: list[tuple[frozenset[str], frozenset[str], int, int | None]] = []
        self.release = asyncio.Event()
        self.release.set()

    async def after(
        self, scope: Watchers, after_id: int, until: int | None = None
    ) -> AsyncIterator[Delivery]:
        self.queries.append((scope.departments, scope.employee_ids, after_id, until))
        await self.release.wait()
        own = {scope.employee_id, *scope.employee_ids}
        for d in sorted(self.rows, key=lambda d: d.event_id or 0):
            in_scope = d.employee_id in own or (
                d.department_visible and d.department in scope.departments
            )
            if in_scope and after_id < (d.event_id or 0) <= (until or 0):
                yield d


def reads(inbox: CountingInbox) -> GapReads:
    return GapReads(inbox, NotifierMetrics())  # type: ignore[arg-type]


def ids(rows: object) -> list[int]:
    return [d.event_id or 0 for d in rows]  # type: ignore[attr-defined]


async def test_watchers_asking_together_for_the_same_cursor_share_one_query():
    inbox = CountingInbox([row(n, f"E{n}", visible=True) for n in range(1, 4)])
    gaps = reads(inbox)
    answers = await asyncio.gather(*(gaps.rows(Scope(f"M{i}", SALES), 0, 3) for i in range(100)))
    assert len(inbox.queries) == 1
    assert [ids(a) for a in answers] == [[1, 2, 3]] * 100


async def test_the_shared_query_covers_every_waiting_stream_and_the_newest_id_asked():
    inbox = CountingInbox([])
    gaps = reads(inbox)
    await asyncio.gather(gaps.rows(Scope("M1", SALES), 5, 7), gaps.rows(Scope("M2", SALES), 5, 9))
    assert inbox.queries == [(SALES, frozenset({"M1", "M2"}), 5, 9)]


async def test_a_watcher_gets_its_own_private_rows_and_never_anothers():
    inbox = CountingInbox(
        [
            row(1, "E1", visible=True),
            row(2, "M1", visible=False),  # a push to M1 alone
            row(3, "M2", department="HR", visible=False),  # M2's, private, another department
            row(4, "E2", visible=False),  # a push to E2 alone: no watcher's (decision 0051)
            row(5, "E3", department="HR", visible=True),  # HR's: not watched here
        ]
    )
    gaps = reads(inbox)
    first, second = await asyncio.gather(
        gaps.rows(Scope("M1", SALES), 0, 5), gaps.rows(Scope("M2", SALES), 0, 5)
    )
    assert ids(first) == [1, 2]
    assert ids(second) == [1, 3]
    assert len(inbox.queries) == 1


async def test_each_watcher_keeps_only_rows_up_to_its_own_newest_id():
    inbox = CountingInbox([row(n, f"E{n}", visible=True) for n in range(1, 6)])
    gaps = reads(inbox)
    short, long = await asyncio.gather(
        gaps.rows(Scope("M1", SALES), 0, 3), gaps.rows(Scope("M2", SALES), 0, 5)
    )
    assert ids(short) == [1, 2, 3]
    assert ids(long) == [1, 2, 3, 4, 5]


@pytest.mark.parametrize(
    ("departments", "after_id", "expected"),
    [
        (SALES, 2, [3]),  # the same departments from another cursor
        (frozenset({"HR"}), 0, [4]),  # other departments from the same cursor
    ],
    ids=["cursor", "departments"],
)
async def test_streams_that_differ_in_cursor_or_departments_read_apart(
    departments, after_id, expected
):
    inbox = CountingInbox(
        [row(n, f"E{n}", visible=True) for n in range(1, 4)]
        + [row(4, "E4", department="HR", visible=True)]
    )
    gaps = reads(inbox)
    first, second = await asyncio.gather(
        gaps.rows(Scope("M1", SALES), 0, 4), gaps.rows(Scope("M2", departments), after_id, 4)
    )
    assert ids(first) == [1, 2, 3]
    assert ids(second) == expected
    assert len(inbox.queries) == 2


async def test_a_stream_asking_once_the_query_began_starts_a_new_one():
    inbox = CountingInbox([row(1, "E1", visible=True)])
    inbox.release.clear()
    gaps = reads(inbox)
    early = asyncio.create_task(gaps.rows(Scope("M1", SALES), 0, 1))
    await asyncio.sleep(0.01)  # the query has begun, waiting for the database
    late = asyncio.create_task(gaps.rows(Scope("M2", SALES), 0, 1))
    await asyncio.sleep(0.01)
    inbox.release.set()
    assert ids(await early) == [1]
    assert ids(await late) == [1]
    assert [q[1] for q in inbox.queries] == [frozenset({"M1"}), frozenset({"M2"})]


async def test_a_stream_that_ends_while_waiting_leaves_the_others_read_alone():
    inbox = CountingInbox([row(1, "E1", visible=True)])
    inbox.release.clear()
    gaps = reads(inbox)
    leaving = asyncio.create_task(gaps.rows(Scope("M1", SALES), 0, 1))
    staying = asyncio.create_task(gaps.rows(Scope("M2", SALES), 0, 1))
    await asyncio.sleep(0.01)
    leaving.cancel()
    inbox.release.set()
    assert ids(await staying) == [1]
    with pytest.raises(asyncio.CancelledError):
        await leaving


async def test_a_failed_query_fails_every_stream_that_waited_for_it():
    class Broken(CountingInbox):
        async def after(self, *args: object) -> AsyncIterator[Delivery]:  # type: ignore[override]
            raise OSError("database gone")
            yield  # pragma: no cover

    gaps = reads(Broken([]))
    results = await asyncio.gather(
        gaps.rows(Scope("M1", SALES), 0, 1),
        gaps.rows(Scope("M2", SALES), 0, 1),
        return_exceptions=True,
    )
    assert all(isinstance(r, OSError) for r in results)
