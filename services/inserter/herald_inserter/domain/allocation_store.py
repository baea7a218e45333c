"""PostgreSQL side of one allocation: resolve, COPY in chunks, and status bookkeeping.

An allocation is written in chunks of `chunk_size` employees (docs/decisions/0068), one
transaction each under the notifications writer lock, so the lock is held for one chunk
at a time: ids are drawn and committed in order, and a push or a summary waiting for the
lock writes between two chunks. The first transaction claims the request (`claims`: the
step every write of a request starts with), counts its recipients and fixes them: the
employees matching its criteria that existed then (`recipients_as_of`), taken in employee
id order, `chunk_size` at a time after the last one written (`written_through`), the
first chunk smaller (`first_chunk_size`) so that the first employees hear within a
blink of the request (docs/decisions/0081). The
allocation's row records each chunk written and each chunk published, so a redelivered
request resumes where the last attempt stopped: it publishes the newest chunk again when
its Kafka transaction did not commit, else it writes the next one. Once the last chunk
commits `inserted_at` is set, and a later claim finds the allocation written.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal
from uuid import UUID

from psycopg import AsyncConnection, sql
from psycopg.types.json import Json
from psycopg_pool import AsyncConnectionPool

from herald_common import audit
from herald_common.approval import ApprovalSettings
from herald_common.criteria_sql import criteria_filter, unknown_departments_query
from herald_common.events import (
    SOURCE_ALLOCATION,
    SOURCE_INSERTER,
    VOUCHER_ALLOCATED,
    AllocationRequested,
    json_text,
    request_fingerprint,
)
from herald_common.inbox_writes import take_writer_lock
from herald_common.notifications import PayloadTemplate
from herald_inserter.domain import failures
from herald_inserter.domain.claims import Requests, WriteOutcome, claim
from herald_inserter.domain.codes import generate_codes
from herald_inserter.domain.failures import Failure
from herald_inserter.domain.inbox_writer import (
    IssuedNotification,
    copy_notifications,
    issue_notifications,
    load_notifications,
    with_newest_ids,
)

# Employees per chunk unless the settings say otherwise (HERALD_INSERTER_CHUNK_EMPLOYEES).
# A chunk holds the writer lock for its write: about 0.37 s at 20,000 on the bench
# machine, so a push waits well under its 1 s, while a million takes 12% less than with
# 10,000 and 100,000 employees 5% less (docs/decisions/0085).
DEFAULT_CHUNK_EMPLOYEES = 20_000
# The first chunk's employees hear after its write alone: the first stream had its event
# 86 ms after the POST with 1,000, 0.39 s with 10,000; the chunks after it are full size,
# since each chunk costs a Kafka transaction and a commit (0081).
DEFAULT_FIRST_CHUNK_EMPLOYEES = 1_000


def chunks_total(count: int, first: int, size: int) -> int:
    """Chunks of `count` recipients: one of at most `first`, then `size` at a time."""
    return 1 + -(-max(count - first, 0) // size)


# Statuses of an allocation the inserter must not write: it waits, or it was stopped.
NOT_SENT = ("pending_approval", "scheduled", "rejected", "expired", "cancelled")
# Who the audit trail names for the inserter's steps.
INSERTER_ACTOR = "herald-inserter"

logger = logging.getLogger(__name__)

ALLOCATIONS = Requests(
    "allocations",
    kind=VOUCHER_ALLOCATED,
    owner="allocation_id",
    # A parked allocation has no `inserting_at`; a resumed one keeps its first.
    inserting="status = 'inserting', inserting_at = coalesce(inserting_at, now())",
    # It ended before writing anything (no recipients, given up, rejected, expired,
    # cancelled), or it waits for approval or its time: nothing is written for it now.
    final=("failed", *NOT_SENT),
)

# Sends the notifications' events (inside the caller's Kafka transaction); returns how many.
Publish = Callable[[list[IssuedNotification], datetime], Awaitable[int]]

# Written now (its events were sent while it was written); written before but its Kafka
# transaction did not commit (publish it again); or every chunk published already.
ChunkStep = Literal["written", "unpublished", "published"]


@dataclass(frozen=True, slots=True)
class Chunk:
    """One chunk of an allocation, as a write answers it."""

    number: int  # from 1
    # Chunks expected: from the count when the write began, exact once the last is written.
    total: int
    # Every recipient is written once this chunk is.
    last: bool
    # Recipients counted when the write began (exact once the last chunk is written), and
    # rows written so far, this chunk's included.
    matched: int
    inserted: int
    # The ids drawn for the chunk (None: an empty chunk).
    first_id: int | None
    last_id: int | None
    step: ChunkStep

    @property
    def rows(self) -> int:
        # A chunk's ids are drawn in one run (`draw_ids`): they are consecutive.
        if self.first_id is None or self.last_id is None:
            return 0
        return self.last_id - self.first_id + 1


@dataclass(frozen=True, slots=True)
class ChunkState:
    """Where a chunked write stands, from the allocation's row."""

    status: str
    as_of: datetime
    size: int
    total: int
    written: int
    published: int
    through: str | None
    first_id: int | None
    last_id: int | None
    matched: int
    inserted: int
    all_written: bool


async def _chunk_state(conn: AsyncConnection, allocation_id: UUID) -> ChunkState | None:
    """The row's chunk bookkeeping, locked; None unless a chunk has been written."""
    row = await (
        await conn.execute(
            "SELECT status, recipients_as_of, chunk_size, chunks_total, chunks_written,"
            " chunks_published, written_through, chunk_first_id, chunk_last_id,"
            " matched_count, inserted_count, inserted_at IS NOT NULL"
            " FROM allocations WHERE id = %s AND chunks_written > 0 FOR UPDATE",
            (allocation_id,),
        )
    ).fetchone()
    return None if row is None else ChunkState(*row)


class VoucherPayloads:
    """Each employee's event data as JSON text, from the parts every voucher shares.

    The text equals `payload_text` of the dict {allocation_id, employee_id, department,
    title, body, voucher{name, code, amount, currency, expires_on}}, built without
    encoding the shared parts 100,000 times; `template` is those parts, stored once.
    """

    def __init__(self, request: AllocationRequested) -> None:
        voucher = request.voucher
        amount = f"{voucher.amount:.2f}"
        self.title = f"New voucher: {voucher.name}"
        self.body = f"You received {amount} {voucher.currency}, valid until {voucher.expires_on}."
        self.template = PayloadTemplate(
            (
                f'{{"allocation_id":"{request.allocation_id}","employee_id":',
                "",
                ',"department":',
                f',"title":{json_text(self.title)},"body":{json_text(self.body)},'
                f'"voucher":{{"name":{json_text(voucher.name)},"code":',
                f',"amount":"{amount}","currency":{json_text(voucher.currency)},'
                f'"expires_on":"{voucher.expires_on.isoformat()}"}}}}',
            )
        )

    def text(self, employee_id: str, department: str, code: str) -> str:
        return self.template.text(employee_id, department, code)


async def _has_history(conn: AsyncConnection, allocation_id: UUID) -> bool:
    row = await (
        await conn.execute(
            "SELECT EXISTS (SELECT 1 FROM audit_records WHERE allocation_id = %s)",
            (allocation_id,),
        )
    ).fetchone()
    return bool(row and row[0])


async def _copy_vouchers(
    conn: AsyncConnection,
    request: AllocationRequested,
    notifications: list[IssuedNotification],
    codes: list[str],
    created_at: datetime,
) -> None:
    allocation_id, voucher = request.allocation_id, request.voucher
    async with (
        conn.cursor() as cur,
        cur.copy(
            "COPY employee_vouchers (allocation_id, employee_id, code, amount, currency,"
            " expires_on, notification_id, created_at) FROM STDIN (FORMAT BINARY)"
        ) as copy,
    ):
        # char(3) takes text's binary form.
        copy.set_types(["uuid", "text", "text", "numeric", "text", "date", "int8", "timestamptz"])
        for n, code in zip(notifications, codes, strict=True):
            await copy.write_row(
                (
                    allocation_id,
                    n.employee_id,
                    code,
                    voucher.amount,
                    voucher.currency,
                    voucher.expires_on,
                    n.notification_id,
                    created_at,
                )
            )


class AllocationStore:
    def __init__(
        self,
        pool: AsyncConnectionPool[AsyncConnection],
        *,
        approval: ApprovalSettings,
        chunk_size: int = DEFAULT_CHUNK_EMPLOYEES,
        first_chunk_size: int | None = None,
    ) -> None:
        self._pool = pool
        self._approval = approval
        self._chunk_size = chunk_size
        # A head start, never a bigger bite (the settings refuse one).
        self._first_chunk_size = first_chunk_size or chunk_size
        if self._first_chunk_size > chunk_size:
            raise ValueError(f"first chunk {first_chunk_size} exceeds the chunk size {chunk_size}")

    async def write(
        self,
        request: AllocationRequested,
        publish: Publish | None = None,
        *,
        source: str = SOURCE_ALLOCATION,
    ) -> WriteOutcome:
        """One step of the allocation: its next chunk, written now, or the newest chunk to
        publish again (`WriteOutcome.chunk`); or why nothing is written.

        When a chunk is written now, `publish` is called with its notifications while the
        COPY still runs (the database is the slower side), and the chunk commits once it
        returned. Its events must not become visible before that commit: it sends inside a
        Kafka transaction that the caller commits after this returns, and then tells
        `mark_chunk_published`. The caller repeats until a chunk is the last.
        """
        async with self._pool.connection() as conn, conn.transaction():
            # Under the writer lock, as every writer's first step (the claim takes it too).
            await take_writer_lock(conn)
            state = await _chunk_state(conn, request.allocation_id)
            if state is not None:
                answer = await self._resumed(conn, request.allocation_id, state)
                if answer is not None:
                    return answer
                return await self._write_chunk(conn, request, state, publish)
            claimed = await claim(
                conn,
                ALLOCATIONS,
                request.allocation_id,
                row={
                    "request_hash": request_fingerprint(request.voucher, request.criteria),
                    "voucher": Json(request.voucher.model_dump(mode="json")),
                    "criteria": Json(request.criteria.model_dump(mode="json")),
                    "requested_at": request.requested_at,
                },
                admit=lambda conn: self._admit(conn, request),
            )
            if claimed is not None:
                return claimed
            # Written straight to the topic by another system: its trail starts here.
            fresh = not await _has_history(conn, request.allocation_id)
            return await self._begin(conn, request, publish, source, fresh=fresh)

    async def _admit(
        self, conn: AsyncConnection, request: AllocationRequested
    ) -> WriteOutcome | None:
        unknown = await self._unknown_departments(conn, request)
        if not unknown:
            return None
        # The API refuses these; a request written straight to the topic is refused here
        # the same way (no row), and a row the API made says why.
        failure = failures.unknown_departments(unknown)
        await self._set_failed(conn, request.allocation_id, failure)
        return WriteOutcome("rejected", datetime.now(UTC), [], False, failure=failure)

    async def _unknown_departments(
        self, conn: AsyncConnection, request: AllocationRequested
    ) -> list[str]:
        if not request.criteria.departments:
            return []
        query, params = unknown_departments_query(list(request.criteria.departments))
        return [str(r[0]) for r in await (await conn.execute(query, params)).fetchall()]

    async def _needs_approval(
        self, conn: AsyncConnection, request: AllocationRequested, matched: int, source: str
    ) -> str | None:
        """Why the request must wait for approval before anything is written; None if not.

        The rule is the API's, applied again here because the audience is counted anew
        when the request is sent (a schedule), and because other systems write requests
        straight to the topic; sources in `exempt_sources` are trusted to have had theirs.
        """
        reason = self._approval.reason(matched, request.voucher)
        if reason is None or source in self._approval.exempt_sources:
            return None
        row = await (
            await conn.execute(
                "SELECT decided_by FROM allocations WHERE id = %s", (request.allocation_id,)
            )
        ).fetchone()
        if row is not None and row[0] is not None:
            return None  # a second hr-admin approved it
        return reason

    async def _park(
        self,
        conn: AsyncConnection,
        request: AllocationRequested,
        matched: int,
        reason: str,
        *,
        recorded: bool,
    ) -> WriteOutcome:
        """Over the approval rule and not approved: it waits for approval, nothing written."""
        await conn.execute(
            "UPDATE allocations SET status = 'pending_approval', approval_required = true,"
            " approval_expires_at = now() + make_interval(secs => %s), inserting_at = NULL"
            " WHERE id = %s",
            (self._approval.expires_after.total_seconds(), request.allocation_id),
        )
        if not recorded:  # a schedule whose audience grew past the rule by its send time
            await audit.append(
                conn,
                allocation_id=request.allocation_id,
                step="requested",
                actor=INSERTER_ACTOR,
                detail={"matched": matched, "approval": reason},
            )
        logger.info("allocation %s waits for approval: %s", request.allocation_id, reason)
        return WriteOutcome("pending_approval", datetime.now(UTC), [], False)

    async def _set_failed(
        self, conn: AsyncConnection, allocation_id: UUID, failure: Failure
    ) -> None:
        row = await (
            await conn.execute(
                "WITH before AS (SELECT id, status FROM allocations WHERE id = %s FOR UPDATE)"
                " UPDATE allocations SET status = 'failed', failure_reason = %s,"
                " failure_detail = %s, completed_at = now() FROM before"
                " WHERE allocations.id = before.id AND before.status <> 'completed'"
                " RETURNING before.status",
                (
                    allocation_id,
                    failure.reason[:2000],
                    (failure.detail or "")[:4000] or None,
                ),
            )
        ).fetchone()
        if row is not None and row[0] != "failed":
            await audit.append(
                conn,
                allocation_id=allocation_id,
                step="failed",
                actor=INSERTER_ACTOR,
                detail={"reason": failure.reason},
            )

    async def _begin(
        self,
        conn: AsyncConnection,
        request: AllocationRequested,
        publish: Publish | None,
        source: str,
        *,
        fresh: bool,
    ) -> WriteOutcome:
        """The claimed allocation's recipients are counted and fixed, then its first chunk
        is written, all in the claim's transaction."""
        where, params = criteria_filter(request.criteria, request.requested_at.date())
        row = await (
            await conn.execute(
                sql.SQL("SELECT count(*), now() FROM employees WHERE {}").format(where), params
            )
        ).fetchone()
        assert row is not None
        count, as_of = int(row[0]), row[1]
        approval = await self._needs_approval(conn, request, count, source)
        if fresh:
            detail: dict[str, object] = {"via": "topic", "source": source, "matched": count}
            if approval:
                detail["approval"] = approval
            await audit.append(
                conn,
                allocation_id=request.allocation_id,
                step="requested",
                actor=source,
                detail=detail,
            )
        if count == 0:
            # Not "completed 0/0/0": an allocation that reaches nobody did not do its job.
            failure = failures.no_recipients()
            await self._set_failed(conn, request.allocation_id, failure)
            return WriteOutcome("failed", datetime.now(UTC), [], False, failure=failure)
        if approval is not None:
            return await self._park(conn, request, count, approval, recorded=fresh)
        await audit.append(
            conn,
            allocation_id=request.allocation_id,
            step="started",
            actor=INSERTER_ACTOR,
            detail={
                "matched": count,
                "chunk_size": self._chunk_size,
                "first_chunk_size": self._first_chunk_size,
            },
        )
        state = ChunkState(
            status="inserting",
            as_of=as_of,
            size=self._chunk_size,
            total=chunks_total(count, self._first_chunk_size, self._chunk_size),
            written=0,
            published=0,
            through=None,
            first_id=None,
            last_id=None,
            matched=count,
            inserted=0,
            all_written=False,
        )
        await conn.execute(
            "UPDATE allocations SET recipients_as_of = %s, chunk_size = %s, chunks_total = %s,"
            " chunks_written = 0, chunks_published = 0, written_through = NULL,"
            " matched_count = %s, inserted_count = 0, published_count = 0 WHERE id = %s",
            (as_of, state.size, state.total, count, request.allocation_id),
        )
        return await self._write_chunk(conn, request, state, publish)

    async def _write_chunk(
        self,
        conn: AsyncConnection,
        request: AllocationRequested,
        state: ChunkState,
        publish: Publish | None,
    ) -> WriteOutcome:
        """The next chunk: the next `size` recipients (the first chunk's size for the first)
        in employee id order after the last one written, each with their newest
        notification id as it is now (every earlier chunk has committed, so previous ids
        run on across chunk boundaries)."""
        # A resumed allocation has written its first chunk (the row records nothing until
        # then), so the row's `size` is right for every chunk it writes.
        size = self._first_chunk_size if state.written == 0 else state.size
        where, params = criteria_filter(request.criteria, request.requested_at.date())
        recipients = sql.SQL(
            "SELECT id, department FROM employees WHERE ({}) AND created_at <= %(as_of)s"
            " AND id > %(after)s ORDER BY id LIMIT %(limit)s"
        ).format(where)
        params = {
            **params,
            "as_of": state.as_of,
            "after": state.through or "",
            # One more than a chunk tells whether this one is the last.
            "limit": size + 1,
        }
        employees = await (await conn.execute(with_newest_ids(recipients), params)).fetchall()
        last = len(employees) <= size
        del employees[size:]
        created_at = datetime.now(UTC)
        count = len(employees)
        codes = generate_codes(request.voucher.code_prefix, count)
        payloads = VoucherPayloads(request)
        notifications = await issue_notifications(
            conn,
            employees,
            (
                payloads.text(emp, dept, code)
                for (emp, dept, _), code in zip(employees, codes, strict=True)
            ),
        )
        allocation_id = request.allocation_id
        # The events are complete (previous ids included): they are sent while the server
        # works through the inbox rows. Started once every row has gone to the COPY, not
        # before its first: the encoding then ran while the server waited for rows, and
        # the two took turns (decision 0084).
        publishing: asyncio.Future[int] | None = None

        def start_publishing() -> None:
            nonlocal publishing
            if publish is not None:
                publishing = asyncio.ensure_future(publish(notifications, created_at))

        try:
            if notifications:
                await copy_notifications(
                    conn,
                    notifications,
                    kind=VOUCHER_ALLOCATED,
                    source=SOURCE_INSERTER,
                    created_at=created_at,
                    title=payloads.title,
                    body=payloads.body,
                    allocation_id=allocation_id,
                    # A department's vouchers are its watchers' to see, as its team feed shows.
                    visibility="department",
                    template=payloads.template,
                    codes=codes,
                    rows_written=start_publishing,
                )
                await _copy_vouchers(conn, request, notifications, codes, created_at)
            number = state.written + 1
            inserted = state.inserted + count
            first_id = notifications[0].notification_id if notifications else None
            last_id = notifications[-1].notification_id if notifications else None
            await conn.execute(
                "UPDATE allocations SET chunks_written = %s, written_through = %s,"
                " chunk_first_id = %s, chunk_last_id = %s, inserted_count = %s,"
                # The last chunk: the estimate gives way to the count, and once committed
                # every later claim finds the allocation written.
                " chunks_total = CASE WHEN %s THEN %s ELSE greatest(chunks_total, %s) END,"
                " matched_count = CASE WHEN %s THEN %s ELSE matched_count END,"
                " inserted_at = CASE WHEN %s THEN clock_timestamp() END"
                " WHERE id = %s",
                (
                    number,
                    employees[-1][0] if employees else state.through,
                    first_id,
                    last_id,
                    inserted,
                    last,
                    number,
                    number + 1,
                    last,
                    inserted,
                    last,
                    allocation_id,
                ),
            )
            published = None if publishing is None else await publishing
        finally:
            if publishing is not None:
                publishing.cancel()
        chunk = Chunk(
            number=number,
            total=number if last else max(state.total, number + 1),
            last=last,
            matched=inserted if last else state.matched,
            inserted=inserted,
            first_id=first_id,
            last_id=last_id,
            step="written",
        )
        return WriteOutcome(
            "inserting", created_at, notifications, True, published or 0, chunk=chunk
        )

    async def _resumed(
        self, conn: AsyncConnection, allocation_id: UUID, state: ChunkState
    ) -> WriteOutcome | None:
        """A chunk has been written: the newest is published first if its Kafka
        transaction did not commit (or the allocation ended); None: write the next."""
        if state.status not in ("inserting", "published"):
            # Completed, or given up (failed) part-way: nothing more is written.
            failure = None
            if state.status == "failed":
                row = await (
                    await conn.execute(
                        "SELECT failure_reason, failure_detail FROM allocations WHERE id = %s",
                        (allocation_id,),
                    )
                ).fetchone()
                assert row is not None
                failure = Failure(row[0] or "failed", row[1])
            return WriteOutcome(state.status, datetime.now(UTC), [], False, failure=failure)
        if state.published < state.written or state.all_written:
            chunk = Chunk(
                number=state.written,
                total=state.total,
                last=state.all_written,
                matched=state.matched,
                inserted=state.inserted,
                first_id=state.first_id,
                last_id=state.last_id,
                step="unpublished" if state.published < state.written else "published",
            )
            return WriteOutcome("inserting", datetime.now(UTC), [], False, chunk=chunk)
        return None

    async def load_chunk(
        self, allocation_id: UUID, chunk: Chunk
    ) -> tuple[datetime, list[IssuedNotification]]:
        """A written chunk's notifications, to publish again (same ids, same previous ids)."""
        if chunk.first_id is None or chunk.last_id is None:
            return datetime.now(UTC), []
        async with self._pool.connection() as conn:
            created_at, notifications = await load_notifications(
                conn,
                VOUCHER_ALLOCATED,
                "allocation_id",
                allocation_id,
                ids=(chunk.first_id, chunk.last_id),
            )
        return created_at or datetime.now(UTC), notifications

    async def mark_chunk_published(self, allocation_id: UUID, chunk: Chunk) -> None:
        """The chunk's Kafka transaction committed: the next attempt writes the next one.
        A repeat (the same chunk published again) changes nothing."""
        async with self._pool.connection() as conn:
            await conn.execute(
                "UPDATE allocations SET chunks_published = %s, published_count = %s"
                " WHERE id = %s AND chunks_published = %s - 1 AND chunks_written >= %s",
                (chunk.number, chunk.inserted, allocation_id, chunk.number, chunk.number),
            )

    async def mark_published(self, allocation_id: UUID, published: int) -> None:
        async with self._pool.connection() as conn:
            await conn.execute(
                "UPDATE allocations SET status = 'published', published_count = %s,"
                " published_at = now() WHERE id = %s AND status IN ('inserting', 'published')",
                (published, allocation_id),
            )

    async def mark_completed(self, allocation_id: UUID) -> None:
        async with self._pool.connection() as conn, conn.transaction():
            done = await (
                await conn.execute(
                    "UPDATE allocations SET status = 'completed', completed_at = now()"
                    " WHERE id = %s AND status = 'published' RETURNING published_count",
                    (allocation_id,),
                )
            ).fetchone()
            if done is not None:
                await audit.append(
                    conn,
                    allocation_id=allocation_id,
                    step="completed",
                    actor=INSERTER_ACTOR,
                    detail={"published": done[0]},
                )

    async def mark_failed(self, allocation_id: UUID, failure: Failure) -> None:
        async with self._pool.connection() as conn:
            await self._set_failed(conn, allocation_id, failure)

    async def counts(self, allocation_id: UUID) -> tuple[int, int, int]:
        async with self._pool.connection() as conn:
            row = await (
                await conn.execute(
                    "SELECT matched_count, inserted_count, published_count FROM allocations"
                    " WHERE id = %s",
                    (allocation_id,),
                )
            ).fetchone()
        return (row[0], row[1], row[2]) if row else (0, 0, 0)
