"""The allocations' audit trail: append-only records, each chained to the one before.

Each allocation has its own chain: record `seq` carries the hash of record `seq - 1`
(`GENESIS` for the first) and its own hash over its content and that previous hash. An
edited record no longer matches its hash; a deleted one leaves a gap in `seq` and a broken
link; a deleted newest record leaves the allocation's status without the step that set it.
`verify` finds all three. PostgreSQL itself refuses UPDATE, DELETE and TRUNCATE on the table
(migration 0008), so only a superuser who disables the triggers can change the past.

Appends of one allocation are serialised by a transaction-scoped advisory lock on its id,
not globally: the inserter records `started` inside its long COPY transaction, and a global
lock would make every approval wait for it (docs/decisions/0046).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from psycopg import AsyncConnection

GENESIS = "0" * 64
STEPS = (
    "requested",
    "approved",
    "rejected",
    "expired",
    "scheduled",
    "cancelled",
    "started",
    "completed",
    "failed",
    "revoked",
)
# First key of the two-key advisory lock that serialises one allocation's appends ("AUDT").
_AUDIT_LOCK = 0x41554454

# The step that must end the chain of an allocation in this status: a newest record
# deleted leaves the status without it. Statuses that several steps may lead to are absent.
_LAST_STEP: dict[str, frozenset[str]] = {
    "pending_approval": frozenset({"requested"}),
    "scheduled": frozenset({"scheduled"}),
    "rejected": frozenset({"rejected"}),
    "expired": frozenset({"expired"}),
    "cancelled": frozenset({"cancelled"}),
    "failed": frozenset({"failed"}),
    "completed": frozenset({"completed", "revoked"}),
    "revoked": frozenset({"revoked"}),
    "partly_revoked": frozenset({"revoked"}),
}


def detail_text(detail: Mapping[str, object] | None) -> str:
    """The detail as stored and hashed: canonical JSON (sorted keys, ASCII, no spaces)."""
    return json.dumps(
        dict(detail or {}), sort_keys=True, separators=(",", ":"), ensure_ascii=True, default=str
    )


def record_hash(
    *,
    prev_hash: str,
    allocation_id: UUID,
    seq: int,
    step: str,
    actor: str,
    detail: str,
    recorded_at: datetime,
) -> str:
    """SHA-256 (hex) over the record's content and the previous record's hash."""
    content = json.dumps(
        [
            prev_hash,
            str(allocation_id),
            seq,
            step,
            actor,
            detail,
            recorded_at.astimezone(UTC).isoformat(timespec="microseconds"),
        ],
        separators=(",", ":"),
        ensure_ascii=True,
    )
    return hashlib.sha256(content.encode()).hexdigest()


async def append(
    conn: AsyncConnection,
    *,
    allocation_id: UUID,
    step: str,
    actor: str,
    detail: Mapping[str, object] | None = None,
) -> None:
    """Appends one record to the allocation's chain, in the caller's transaction (or a
    transaction of its own on an autocommit connection): it exists exactly when the
    caller's change commits."""
    if step not in STEPS:
        raise ValueError(f"unknown audit step {step!r}")
    text = detail_text(detail)
    actor = actor[:255]
    async with conn.transaction():
        await conn.execute(
            "SELECT pg_advisory_xact_lock(%s::int, hashtext(%s))", (_AUDIT_LOCK, str(allocation_id))
        )
        row = await (
            await conn.execute(
                "WITH last AS (SELECT seq, hash FROM audit_records WHERE allocation_id = %s"
                " ORDER BY seq DESC LIMIT 1)"
                " SELECT clock_timestamp(), (SELECT seq FROM last), (SELECT hash FROM last)",
                (allocation_id,),
            )
        ).fetchone()
        assert row is not None
        recorded_at: datetime = row[0]
        seq = (row[1] or 0) + 1
        prev_hash = row[2] or GENESIS
        digest = record_hash(
            prev_hash=prev_hash,
            allocation_id=allocation_id,
            seq=seq,
            step=step,
            actor=actor,
            detail=text,
            recorded_at=recorded_at,
        )
        await conn.execute(
            "INSERT INTO audit_records (allocation_id, seq, step, actor, detail, recorded_at,"
            " prev_hash, hash) VALUES (%s, %s, %s, %s, %s::json, %s, %s, %s)",
            (allocation_id, seq, step, actor, text, recorded_at, prev_hash, digest),
        )


@dataclass(frozen=True, slots=True)
class AuditRecord:
    allocation_id: UUID
    seq: int
    step: str
    actor: str
    detail: str
    recorded_at: datetime
    prev_hash: str
    hash: str

    def expected_hash(self) -> str:
        return record_hash(
            prev_hash=self.prev_hash,
            allocation_id=self.allocation_id,
            seq=self.seq,
            step=self.step,
            actor=self.actor,
            detail=self.detail,
            recorded_at=self.recorded_at,
        )


_RECORD_COLUMNS = "allocation_id, seq, step, actor, detail::text, recorded_at, prev_hash, hash"


async def records(conn: AsyncConnection, allocation_id: UUID) -> list[AuditRecord]:
    """One allocation's records, oldest first."""
    cursor = await conn.execute(
        f"SELECT {_RECORD_COLUMNS} FROM audit_records"  # noqa: S608
        " WHERE allocation_id = %s ORDER BY seq",
        (allocation_id,),
    )
    return [AuditRecord(*row) for row in await cursor.fetchall()]


@dataclass(frozen=True, slots=True)
class Problem:
    allocation_id: UUID
    seq: int | None
    message: str

    def __str__(self) -> str:
        where = f"record {self.seq}" if self.seq is not None else "chain"
        return f"allocation {self.allocation_id} {where}: {self.message}"


@dataclass(slots=True)
class Verification:
    records: int = 0
    allocations: int = 0
    problems: list[Problem] | None = None

    @property
    def ok(self) -> bool:
        return not self.problems


def check_chain(chain: list[AuditRecord], status: str | None) -> list[Problem]:
    """What is wrong with one allocation's records (oldest first), given its status now."""
    problems: list[Problem] = []
    prev_hash, expected_seq = GENESIS, 1
    for record in chain:
        aid = record.allocation_id
        if record.seq != expected_seq:
            problems.append(
                Problem(aid, record.seq, f"record {expected_seq} is missing (deleted?)")
            )
        if record.prev_hash != prev_hash:
            problems.append(Problem(aid, record.seq, "does not link to the record before it"))
        if record.hash != record.expected_hash():
            problems.append(Problem(aid, record.seq, "content does not match its hash (edited?)"))
        prev_hash, expected_seq = record.hash, record.seq + 1
    if chain and status is not None:
        allowed = _LAST_STEP.get(status)
        if allowed is not None and chain[-1].step not in allowed:
            problems.append(
                Problem(
                    chain[0].allocation_id,
                    None,
                    f"status {status} but the newest record is {chain[-1].step}"
                    " (a newer record deleted?)",
                )
            )
    return problems


async def verify(conn: AsyncConnection) -> Verification:
    """Checks every chain, and that every allocation requested since the trail began has one."""
    result = Verification(problems=[])
    assert result.problems is not None
    statuses: dict[UUID, tuple[str, datetime]] = {
        row[0]: (row[1], row[2])
        for row in await (
            await conn.execute("SELECT id, status, requested_at FROM allocations")
        ).fetchall()
    }
    cursor = conn.cursor(name="audit_verify")
    chain: list[AuditRecord] = []
    seen: set[UUID] = set()
    first_recorded: datetime | None = None

    def settle() -> None:
        if chain:
            aid = chain[0].allocation_id
            seen.add(aid)
            status = statuses.get(aid)
            assert result.problems is not None
            result.problems.extend(check_chain(chain, status[0] if status else None))
            result.allocations += 1
            chain.clear()

    async with conn.transaction():
        await cursor.execute(
            f"SELECT {_RECORD_COLUMNS} FROM audit_records"  # noqa: S608
            " ORDER BY allocation_id, seq"
        )
        async for row in cursor:
            record = AuditRecord(*row)
            result.records += 1
            if first_recorded is None or record.recorded_at < first_recorded:
                first_recorded = record.recorded_at
            if chain and chain[0].allocation_id != record.allocation_id:
                settle()
            chain.append(record)
        settle()
        await cursor.close()
    for aid, (_, requested_at) in statuses.items():
        if aid not in seen and first_recorded is not None and requested_at > first_recorded:
            result.problems.append(Problem(aid, None, "has no audit records (deleted?)"))
    return result


def as_mapping(record: AuditRecord) -> dict[str, Any]:
    """A record as a flat mapping (the CSV export's and the API's row)."""
    return {
        "seq": record.seq,
        "step": record.step,
        "actor": record.actor,
        "recorded_at": record.recorded_at.astimezone(UTC).isoformat(),
        "detail": record.detail,
        "prev_hash": record.prev_hash,
        "hash": record.hash,
    }
