"""Migration 0012 moves full inbox rows to the lean shape with nothing lost (0067).

A database at migration 0011 is filled the way that schema's writers filled it: five
allocations to 20,000 employees (100,000 voucher notifications, with their vouchers), a
private push to named employees, a department push with a link, a revocation's notices,
managers' summaries, and rows other writers may have left (an empty payload, a U+0000 in a
payload); some are read, archived or delivered live. After 0012, every row reads back
identical, column for column and byte for byte, and every reader gives what the old rows
gave: the inbox API's page, replay from a Last-Event-ID (SSE and Pusher channels) in order,
and the inserter's republishing.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import psycopg
import pytest
from psycopg import AsyncConnection, AsyncCursor, sql
from psycopg_pool import AsyncConnectionPool

from bench.environment import with_database
from bench.row_bytes import (
    BEFORE_VERSION,
    OLD_NEWEST_IDS,
    old_copy_notifications,
    seed,
    write_allocation,
)
from bench.workload import allocation_request
from herald_allocation.domain.inbox import Inbox as ApiInbox
from herald_channels.domain.inbox import ChannelInbox
from herald_common.auth.channels import Channel
from herald_common.events import (
    ALLOCATION_SUMMARY,
    NOTIFICATION_PUSHED,
    SOURCE_INSERTER,
    SOURCE_MAILER,
    SOURCE_PUSH,
    VOUCHER_ALLOCATED,
    VOUCHER_REVOKED,
    NotificationRequested,
    PushTarget,
    RevocationRequested,
)
from herald_common.inbox_writes import take_writer_lock
from herald_common.migrate import apply_migrations
from herald_common.notifications import notification_event, payload_text
from herald_inserter.domain.inbox_writer import issue_notifications, load_notifications
from herald_inserter.domain.push_store import PushPayloads
from herald_inserter.domain.revocation_store import RevokedNotice
from herald_notifier.domain.inbox import Inbox as StreamInbox
from herald_notifier.domain.inbox import Scope
from tests.conftest import drop_database
from tests.support.stack import Infrastructure

pytestmark = pytest.mark.integration

# The migration under test.
LEAN_VERSION = "0012_lean_notifications"

# Employees chosen by id, with their newest ids, as 0011's writers read them.
CHOSEN_RECIPIENTS = OLD_NEWEST_IDS.format(
    sql.SQL("SELECT id, department FROM employees WHERE id = ANY(%s)")
)

EMPLOYEES = 20_000
ALLOCATIONS = 5
# Every column of the old table, the payload as its text.
COLUMNS = (
    "id, employee_id, department, kind, source, title, body, payload::text, allocation_id,"
    " created_at, read_at, push_id, revocation_id, archived_at, visibility, delivered_at,"
    " action_url"
)


@dataclass
class Filled:
    url: str
    allocation_ids: list[UUID]
    before: list[tuple[Any, ...]]  # every row as 0011 held it, by id


async def _old_write(
    conn: AsyncConnection, employees: list[str], text: Callable[..., str], **shared: Any
) -> None:
    """One request's rows as 0011's writers wrote them: `text(employee, department, n)` is
    the payload of the request's n-th employee (in id order)."""
    recipients = await (await conn.execute(CHOSEN_RECIPIENTS, (employees,))).fetchall()
    payloads = (text(emp, dept, n) for n, (emp, dept, _) in enumerate(recipients))
    rows = await issue_notifications(conn, recipients, payloads)
    await old_copy_notifications(conn, rows, created_at=datetime.now(UTC), **shared)


async def _push(
    conn: AsyncConnection, request: NotificationRequested, employees: list[str]
) -> None:
    payloads = PushPayloads(request)
    shared = {
        "kind": NOTIFICATION_PUSHED,
        "source": SOURCE_PUSH,
        "title": request.title,
        "body": request.body,
        "push_id": request.push_id,
        "visibility": "department" if request.target.department else "private",
        "action_url": request.action_url,
    }
    await _old_write(
        conn, sorted(employees), lambda emp, dept, _: payloads.text(emp, dept), **shared
    )


async def _revoke(conn: AsyncConnection, allocation_id: UUID, employees: list[str]) -> None:
    request = RevocationRequested(
        revocation_id=uuid4(),
        allocation_id=allocation_id,
        requested_by="hr-1",
        reason='Paid "twice"',
        employee_ids=employees,
        requested_at=datetime.now(UTC),
    )
    voided = await (
        await conn.execute(
            "UPDATE employee_vouchers SET revoked_at = now(), revoked_by = 'hr-1',"
            " revoke_reason = %s, revocation_id = %s"
            " WHERE allocation_id = %s AND employee_id = ANY(%s)"
            " RETURNING employee_id, code, notification_id",
            (request.reason, request.revocation_id, allocation_id, employees),
        )
    ).fetchall()
    voided.sort()
    voucher = {"name": "Benchmark bonus", "amount": "50.00", "currency": "EUR",
               "expires_on": "2030-01-31"}  # fmt: skip
    notice = RevokedNotice(request, voucher)
    await _old_write(
        conn,
        [employee for employee, _, _ in voided],
        lambda emp, dept, n: notice.text(emp, dept, voided[n][1], voided[n][2]),
        kind=VOUCHER_REVOKED,
        source=SOURCE_INSERTER,
        title=notice.title,
        body=notice.body,
        allocation_id=allocation_id,
        revocation_id=request.revocation_id,
        visibility="department",
    )


async def _fill(url: str) -> list[UUID]:
    seed(url, EMPLOYEES)
    allocation_ids = []
    async with await AsyncConnection.connect(url) as conn:
        for _ in range(ALLOCATIONS):
            async with conn.transaction():
                await take_writer_lock(conn)
                request = allocation_request()
                await write_allocation(conn, "before", request)
                allocation_ids.append(request.allocation_id)
        async with conn.transaction():
            await take_writer_lock(conn)
            named = [f"E{n:06d}" for n in range(1, 301)]
            await _push(
                conn,
                NotificationRequested(
                    push_id=uuid4(),
                    requested_by="payroll",
                    title="Pay\x00slip",
                    body="line\nbreak \u2028",
                    data={"k": ["v", 1.5, None], "\u00e9": "x"},
                    target=PushTarget(employee_ids=named),
                    requested_at=datetime.now(UTC),
                ),
                named,
            )
            (department,) = await (
                await conn.execute("SELECT min(department) FROM employees")
            ).fetchone() or ("",)
            members = [
                r[0]
                for r in await (
                    await conn.execute(
                        "SELECT id FROM employees WHERE department = %s ORDER BY id LIMIT 200",
                        (department,),
                    )
                ).fetchall()
            ]
            await _push(
                conn,
                NotificationRequested(
                    push_id=uuid4(),
                    requested_by="payroll",
                    title="Team day",
                    body="Friday",
                    data={},
                    target=PushTarget(department=department),
                    action_url="https://example.com/team-day",
                    requested_at=datetime.now(UTC),
                ),
                members,
            )
            await _revoke(conn, allocation_ids[0], [f"E{n:06d}" for n in range(100, 160)])
            # Summaries and rows other writers left, inserted one by one as they were.
            for n, (kind, source, payload) in enumerate(
                [
                    (ALLOCATION_SUMMARY, SOURCE_MAILER, {"title": "3 of 9", "totals": {"a": 1}}),
                    (ALLOCATION_SUMMARY, SOURCE_MAILER, {"title": "3 of 9", "totals": {"a": 2}}),
                    ("test.order", "/test", {}),
                    (NOTIFICATION_PUSHED, SOURCE_PUSH, {"title": "nul \u0000 inside"}),
                    (VOUCHER_ALLOCATED, SOURCE_INSERTER, {"employee_id": "not the row's"}),
                ]
            ):
                await conn.execute(
                    "INSERT INTO notifications (id, employee_id, department, kind, source,"
                    " title, body, payload, allocation_id, action_url)"
                    " VALUES (nextval('notifications_id_seq'), %s, %s, %s, %s, 't', 'b', %s,"
                    " %s, %s)",
                    (
                        f"E{n + 1:06d}",
                        department,
                        kind,
                        source,
                        json.dumps(payload),
                        allocation_ids[1],
                        "https://example.com/x" if n < 2 else None,
                    ),
                )
        await conn.execute(
            "UPDATE notifications SET read_at = now() - interval '1 day' WHERE id % 3 = 0"
        )
        await conn.execute("UPDATE notifications SET archived_at = now() WHERE id % 7 = 0")
        await conn.execute("UPDATE notifications SET delivered_at = now() WHERE id % 2 = 0")
        await conn.commit()
    return allocation_ids


def _rows(url: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(url) as conn:
        return conn.execute(f"SELECT {COLUMNS} FROM notifications ORDER BY id").fetchall()  # noqa: S608


@pytest.fixture(scope="module")
def filled(infra: Infrastructure) -> Iterator[Filled]:
    import asyncio

    name = f"herald_test_lean_{secrets.token_hex(4)}"
    with psycopg.connect(infra.database_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = with_database(infra.database_url, name)
    try:
        apply_migrations(url, up_to=BEFORE_VERSION)
        allocation_ids = asyncio.run(_fill(url))
        before = _rows(url)
        assert apply_migrations(url, up_to=LEAN_VERSION) == [LEAN_VERSION]
        # Then the migrations after it, so that today's readers find today's schema.
        apply_migrations(url)
        yield Filled(url, allocation_ids, before)
    finally:
        drop_database(infra, name)


@pytest.fixture(scope="module")
async def pool(filled: Filled) -> AsyncIterator[AsyncConnectionPool[AsyncConnection]]:
    async with AsyncConnectionPool(filled.url, min_size=1, max_size=2, open=False) as opened:
        yield opened


def _event(row: tuple[Any, ...]) -> bytes:
    return notification_event(
        notification_id=row[0],
        kind=row[3],
        source=row[4],
        employee_id=row[1],
        created_at=row[9],
        payload=json.loads(row[7]),
    )


def test_the_database_held_100000_notifications_read_and_unread(filled: Filled) -> None:
    assert len(filled.before) >= 100_000
    read = sum(1 for row in filled.before if row[10] is not None)
    assert 0 < read < len(filled.before)


def test_every_row_reads_back_identical_through_the_view(filled: Filled) -> None:
    assert _rows(filled.url) == filled.before


def test_the_shared_parts_are_stored_once_per_request(filled: Filled) -> None:
    with psycopg.connect(filled.url) as conn:
        (contents,) = conn.execute("SELECT count(*) FROM notification_contents").fetchone() or (0,)
        (whole,) = conn.execute(
            "SELECT count(*) FROM notifications_per_employee WHERE payload IS NOT NULL"
        ).fetchone() or (0,)
    # Five allocations, two pushes, a revocation, and the odd rows: each on its own but the
    # two summaries, written in one transaction with the same kind, title and body.
    assert contents == ALLOCATIONS + 3 + 4
    assert whole == 5


def test_new_ids_continue_after_the_moved_rows(filled: Filled) -> None:
    with psycopg.connect(filled.url) as conn:
        (next_id,) = conn.execute("SELECT nextval('notifications_id_seq')").fetchone() or (0,)
    assert next_id > filled.before[-1][0]


async def test_the_inbox_api_pages_as_before(filled: Filled, pool) -> None:
    inbox = ApiInbox(pool)
    for employee in ("E000001", "E000120", "E019999"):
        expected = [
            (r[0], r[3], json.loads(r[7]), r[9], r[10], r[13], r[16])
            for r in reversed(filled.before)
            if r[1] == employee and r[13] is None
        ]
        page = await inbox.page(employee, before=None, limit=200, read=None, kind=None)
        got = [
            (
                p["id"],
                p["kind"],
                p["payload"],
                p["created_at"],
                p["read_at"],
                p["archived_at"],
                p["action_url"],
            )
            for p in page
        ]
        assert got == expected


async def test_stream_replay_from_a_last_event_id_gives_the_same_events_in_order(
    filled: Filled, pool
) -> None:
    department = filled.before[-1][2]
    after_id = filled.before[len(filled.before) // 2][0]
    expected = [
        _event(r)
        for r in filled.before
        if r[0] > after_id and (r[1] == "E000150" or (r[2] == department and r[14] == "department"))
    ]
    replay = StreamInbox(pool, page_size=500).after(
        Scope("E000150", frozenset({department})), after_id
    )
    assert [delivery.data async for delivery in replay] == expected


async def test_pusher_channel_replay_gives_the_same_events_in_order(filled: Filled, pool) -> None:
    department = filled.before[-1][2]
    expected = [_event(r) for r in filled.before if r[2] == department and r[14] == "department"]
    channel = Channel("department", department)
    inbox = ChannelInbox(pool, page_size=500)
    got = [m.data async for m in inbox.after(channel, 0, await inbox.latest_id(channel))]
    assert got == expected


def _republished(filled: Filled, allocation_id: UUID) -> list[tuple[Any, ...]]:
    """(id, employee, department, payload text, previous id) of the allocation's vouchers,
    from the rows as 0011 held them."""
    previous: dict[str, int] = {}
    expected = []
    for r in filled.before:
        if r[8] == allocation_id and r[3] == VOUCHER_ALLOCATED:
            expected.append(
                (r[0], r[1], r[2], payload_text(json.loads(r[7])), previous.get(r[1], 0))
            )
        previous[r[1]] = r[0]
    return expected


async def _loaded(
    filled: Filled, allocation_id: UUID, ids: tuple[int, int] | None = None
) -> list[tuple[Any, ...]]:
    async with await AsyncConnection.connect(filled.url) as conn:
        created_at, loaded = await load_notifications(
            conn, VOUCHER_ALLOCATED, "allocation_id", allocation_id, ids=ids
        )
    assert created_at is not None
    return [(n.notification_id, n.employee_id, n.department, n.payload_json, n.previous_id)
            for n in loaded]  # fmt: skip


async def test_republishing_loads_the_same_payloads_and_previous_ids(filled: Filled) -> None:
    allocation_id = filled.allocation_ids[2]
    assert await _loaded(filled, allocation_id) == _republished(filled, allocation_id)


async def test_republishing_one_batch_loads_only_its_ids(filled: Filled) -> None:
    allocation_id = filled.allocation_ids[3]
    expected = _republished(filled, allocation_id)[5_000:7_000]
    ids = (expected[0][0], expected[-1][0])
    assert await _loaded(filled, allocation_id, ids) == expected


class RecordingCursor(AsyncCursor[Any]):
    """Keeps every statement the readers run, to explain them."""

    statements: list[tuple[Any, Any]] = []  # noqa: RUF012 (one test at a time)

    async def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
        RecordingCursor.statements.append((query, params))
        return await super().execute(query, params, **kwargs)


async def test_the_notifiers_replay_and_unread_queries_read_indexes(filled: Filled) -> None:
    department = filled.before[-1][2]
    after_id = filled.before[len(filled.before) // 2][0]
    with psycopg.connect(filled.url, autocommit=True) as conn:
        conn.execute("ANALYZE")
    RecordingCursor.statements = []
    async with AsyncConnectionPool(
        filled.url, min_size=1, max_size=1, kwargs={"cursor_factory": RecordingCursor}
    ) as recording:
        stream, channels = StreamInbox(recording, page_size=500), ChannelInbox(recording, 500)
        for scope in (Scope("E000150", frozenset()), Scope("E000150", frozenset({department}))):
            await stream.latest_id(scope)
            await stream.missed_more_than(scope, after_id, 2000)
            assert [d async for d in stream.after(scope, after_id)]
        await stream.unread_counts(["E000150", "E000151"])
        for channel in (Channel("employee", "E000150"), Channel("department", department)):
            latest = await channels.latest_id(channel)
            assert [m async for m in channels.after(channel, after_id, latest)]
        await channels.unread("E000150")
    plans = {}
    with psycopg.connect(filled.url) as conn:
        for query, params in RecordingCursor.statements:
            text = query if isinstance(query, str) else query.as_string(conn)
            rows = conn.execute(f"EXPLAIN {text}", params).fetchall()
            plans[text] = "\n".join(r[0] for r in rows)
    assert len(plans) >= 8
    scans = {
        text: plan
        for text, plan in plans.items()
        if "Seq Scan on notifications_per_employee" in plan
    }
    assert scans == {}
