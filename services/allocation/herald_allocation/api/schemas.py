"""Request and response bodies of the allocation API."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Generic, Literal, TypeVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from herald_common.events import Criteria, EmployeeId, PushTarget, RevokeReason, VoucherSpec


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
    confirmed_recipients: Annotated[int, Field(ge=1)] | None = Field(
        default=None,
        description=(
            "The recipient count the admin reviewed. Required for `all_employees` or above"
            " the typed-confirmation threshold; when given, it must equal today's match."
        ),
    )


class Counts(BaseModel):
    matched: int
    inserted: int
    published: int

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Counts:
        """From an allocation's or a push's row: both keep the same counts."""
        return cls(
            matched=row["matched_count"],
            inserted=row["inserted_count"],
            published=row["published_count"],
        )


class Timings(BaseModel):
    requested_at: datetime
    inserting_at: datetime | None
    inserted_at: datetime | None
    published_at: datetime | None
    completed_at: datetime | None
    duration_seconds: float | None


class AllocationView(BaseModel):
    id: UUID
    # Every status of migration 0008's lifecycle, so that no row fails to read.
    status: Literal[
        "pending_approval",
        "scheduled",
        "requested",
        "inserting",
        "published",
        "completed",
        "failed",
        "rejected",
        "expired",
        "cancelled",
        "partly_revoked",
        "revoked",
    ]
    voucher: dict[str, Any]
    criteria: dict[str, Any]
    requested_by: str | None
    counts: Counts
    timings: Timings
    waiting_for_worker: bool = Field(
        description="Requested longer ago than the worker wait limit and not yet picked up"
    )
    waiting_seconds: float | None = Field(
        description="How long the request has waited for a worker, while it waits"
    )
    failure_reason: str | None = Field(
        description="For people: what happened, what was written, and what to do next"
    )
    failure_detail: str | None = Field(description="The technical cause, for operators")
    revoked: int = Field(default=0, description="Vouchers revoked since it completed")

    @classmethod
    def from_row(
        cls, row: dict[str, Any], *, now: datetime, worker_wait_seconds: float
    ) -> AllocationView:
        completed = row["completed_at"]
        waited = (
            (now - row["requested_at"]).total_seconds() if row["status"] == "requested" else None
        )
        return cls(
            id=row["id"],
            status=row["status"],
            voucher=row["voucher"],
            criteria=row["criteria"],
            requested_by=row["requested_by"],
            counts=Counts.from_row(row),
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
            waiting_for_worker=waited is not None and waited >= worker_wait_seconds,
            waiting_seconds=None if waited is None else max(0.0, round(waited, 1)),
            failure_reason=row["failure_reason"],
            failure_detail=row["failure_detail"],
            revoked=row.get("revoked", 0),
        )


Item = TypeVar("Item", bound=BaseModel)


class CursorPage(BaseModel, Generic[Item]):
    """A page of a list read newest first; pass `next_cursor` back as `cursor` for more."""

    items: list[Item]
    next_cursor: str | None


class AllocationPage(CursorPage[AllocationView]):
    pass


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


class Department(BaseModel):
    name: str
    employees: int


class DepartmentList(BaseModel):
    items: list[Department]


class PreviewRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    criteria: Criteria
    voucher: VoucherSpec | None = Field(
        default=None, description="With the voucher, the preview also gives the total cost"
    )


class RecipientsRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    criteria: Criteria


class DepartmentCount(BaseModel):
    department: str
    count: int


class Cost(BaseModel):
    currency: str
    amount: Annotated[Decimal, Field(decimal_places=2)]


class Recipient(BaseModel):
    employee_id: str
    name: str
    department: str


class RecipientsChanged(BaseModel):
    code: Literal["recipients_changed"]
    message: str
    matched: int


class RecipientsChangedBody(BaseModel):
    detail: RecipientsChanged


class MatchPreview(BaseModel):
    matched: int
    by_department: list[DepartmentCount]
    total_cost: list[Cost] = Field(description="amount x recipients, per currency")
    sample: list[Recipient] = Field(description="A few recipients, in employee id order")
    confirmation: Literal["review", "typed"] = Field(
        description="`typed`: sending requires `confirmed_recipients` (everyone, or large)"
    )
    typed_confirmation_above: int


class PushCreate(BaseModel):
    """A notification for chosen employees: up to 10,000 ids, a department, or criteria."""

    model_config = ConfigDict(extra="forbid")

    title: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    body: Annotated[str, StringConstraints(max_length=4000)] = ""
    data: dict[str, Any] = Field(default_factory=dict)
    target: PushTarget


class PushView(BaseModel):
    id: UUID
    status: Literal["requested", "inserting", "published", "completed", "failed"]
    counts: Counts
    requested_at: datetime
    completed_at: datetime | None
    failure_reason: str | None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> PushView:
        return cls(
            id=row["id"],
            status=row["status"],
            counts=Counts.from_row(row),
            requested_at=row["requested_at"],
            completed_at=row["completed_at"],
            failure_reason=row["failure_reason"],
        )


class RevokeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: RevokeReason = Field(description="Why: shown to every employee whose voucher is void")
    employee_ids: Annotated[list[EmployeeId], Field(min_length=1, max_length=100_000)] | None = (
        Field(default=None, description="Only these employees' vouchers; absent: every voucher")
    )


class RevocationView(BaseModel):
    id: UUID
    allocation_id: UUID
    status: Literal["requested", "inserting", "completed", "failed"]
    requested_by: str
    reason: str
    employee_ids: list[str] | None = Field(description="null: every voucher of the allocation")
    revoked: int = Field(description="Vouchers this revocation voided")
    published: int
    failure_reason: str | None
    requested_at: datetime
    completed_at: datetime | None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> RevocationView:
        return cls(
            id=row["id"],
            allocation_id=row["allocation_id"],
            status=row["status"],
            requested_by=row["requested_by"],
            reason=row["reason"],
            employee_ids=row["employee_ids"],
            revoked=row["inserted_count"],
            published=row["published_count"],
            failure_reason=row["failure_reason"],
            requested_at=row["requested_at"],
            completed_at=row["completed_at"],
        )


class RevocationList(BaseModel):
    items: list[RevocationView]


class InboxItem(BaseModel):
    id: int
    kind: str
    title: str
    body: str
    data: dict[str, Any]
    created_at: datetime
    read_at: datetime | None
    revoked_at: datetime | None = Field(
        default=None, description="When the voucher of this notification was revoked"
    )
    revoke_reason: str | None = None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> InboxItem:
        payload = row["payload"]
        return cls(
            id=row["id"],
            kind=row["kind"],
            title=payload.get("title", ""),
            body=payload.get("body", ""),
            data=payload,
            created_at=row["created_at"],
            read_at=row["read_at"],
            revoked_at=row.get("revoked_at"),
            revoke_reason=row.get("revoke_reason"),
        )


class InboxPage(CursorPage[InboxItem]):
    pass


class UnreadCount(BaseModel):
    unread: int


class ReadAllResult(BaseModel):
    marked: int


class CsvRowError(BaseModel):
    line: int
    field: str
    message: str


class CsvRejectedBody(BaseModel):
    detail: str
    error_count: int
    errors: list[CsvRowError]


class DevTokenRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    employee_id: EmployeeId
    roles: Annotated[list[Literal["employee", "manager", "hr-admin"]], Field(min_length=1)] = [
        "employee"
    ]


class DevToken(BaseModel):
    token: str
    expires_in: int
    employee_id: str
    department: str
    roles: list[str]
    manages: str | None


class DemoPerson(BaseModel):
    employee_id: str
    name: str
    department: str
    grade: str
    roles: list[str]
    manages: str | None


class DemoPeople(BaseModel):
    people: list[DemoPerson]
