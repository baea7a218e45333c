"""The pass criteria every cluster and network scenario shares, measured once.

0 lost, 0 duplicated, each employee's ids in increasing order, the allocation completed
with one voucher row per employee: what a read_committed subscriber of the voucher topic
and the database say after the fault.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from tests.conftest import HeraldEnv
from tests.reliability.workload import Database
from tests.support.topic_reader import read_everything


@dataclass(frozen=True)
class Outcome:
    employees: int
    voucher_rows: int
    voucher_employees: int
    notifications: int
    records_read: int
    lost: int
    duplicates: int
    out_of_order: int
    status: str | None

    def figures(self) -> dict[str, Any]:
        return dict(self.__dict__)

    def assert_whole(self) -> None:
        assert self.status == "completed", self.status
        assert self.voucher_rows == self.voucher_employees == self.employees
        assert self.notifications == self.employees
        assert self.lost == 0
        assert self.duplicates == 0
        assert self.out_of_order == 0


async def allocation_outcome(
    env: HeraldEnv, db: Database, allocation_id: str, since: dict[int, int], employees: int
) -> Outcome:
    row = await db.allocation(allocation_id)
    rows, distinct = await db.voucher_rows(allocation_id)
    issued = await db.notification_ids(allocation_id)
    tally = await read_everything(env.kafka, env.topics.voucher_allocated, since)
    return Outcome(
        employees=employees,
        voucher_rows=rows,
        voucher_employees=distinct,
        notifications=len(issued),
        records_read=tally.records,
        lost=tally.lost(issued),
        duplicates=tally.duplicates,
        out_of_order=tally.out_of_order(),
        status=row["status"] if row else None,
    )


class Clock:
    """Seconds since the fault, rounded for the figures."""

    def __init__(self) -> None:
        self.started = time.monotonic()

    def __call__(self) -> float:
        return round(time.monotonic() - self.started, 1)
