"""Request and response bodies of the allocation API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal
from uuid import UUID

from herald_common.events import Criteria, VoucherSpec
from pydantic import BaseModel, ConfigDict, field_validator


class NewVoucher(VoucherSpec):
    @field_validator("expires_on")
    @classmethod
    def _in_the_future(cls, value: date) -> date:
        if value <= date.today():
            raise ValueError("expires_on must be after today")
        return value


class AllocationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    voucher: NewVoucher
    criteria: Criteria


class Counts(BaseModel):
    matched: int
    inserted: int
    published: int


class Timings(BaseModel):
    requested_at: datetime
    inserting_at: datetime | None
    inserted_at: datetime | None
    published_at: datetime | None
    completed_at: datetime | None
    duration_seconds: float | None


class AllocationView(BaseModel):
    id: UUID
    status: Literal["requested", "inserting", "published", "completed", "failed"]
    voucher: dict[str, Any]
    criteria: dict[str, Any]
    counts: Counts
    timings: Timings
    failure_reason: str | None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> AllocationView:
        completed = row["completed_at"]
        return cls(
            id=row["id"],
            status=row["status"],
            voucher=row["voucher"],
            criteria=row["criteria"],
            counts=Counts(
                matched=row["matched_count"],
                inserted=row["inserted_count"],
                published=row["published_count"],
            ),
            timings=Timings(
                requested_at=row["requested_at"],
                inserting_at=row["inserting_at"],
                inserted_at=row["inserted_at"],
                published_at=row["published_at"],
                completed_at=completed,
                duration_seconds=(
                    (completed - row["requested_at"]).total_seconds() if completed else None
                ),
            ),
            failure_reason=row["failure_reason"],
        )


class AllocationPage(BaseModel):
    items: list[AllocationView]
    next_cursor: str | None


class ImportSummary(BaseModel):
    inserted: int
    updated: int


class EmployeeView(BaseModel):
    id: str
    name: str
    email: str
    department: str
    grade: str
    hired_on: date
    manager_id: str | None


class EmployeePage(BaseModel):
    items: list[EmployeeView]
    next_after: str | None
