"""Request and response bodies of the allocation API."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any, Generic, Literal, TypeVar
from uuid import UUID

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
)

from herald_common.events import (
    ActionUrl,
    Criteria,
    EmployeeId,
    PushTarget,
    RevokeReason,
    VoucherSpec,
)


class NewVoucher(VoucherSpec):
    @field_validator("expires_on")
    @classmethod
    def _in_the_future(cls, value: date) -> date:
        if value <= date.today():
            raise ValueError("expires_on must be after today")
        return value


# How far ahead an allocation may be scheduled.
MAX_SCHEDULE_AHEAD = timedelta(days=366)
AllocationStatus = Literal[
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
    "revoked",
    "partly_revoked",
]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


def future_send_at(value: datetime | None) -> datetime | None:
    if value is not None:
        now = datetime.now(UTC)
        if value <= now:
            raise ValueError("send_at must be in the future (leave it out to send now)")
        if value > now + MAX_SCHEDULE_AHEAD:
            raise ValueError("send_at must be within a year")
    return value


class AllocationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    voucher: NewVoucher
    criteria: Criteria
    send_at: AwareDatetime | None = Field(
        default=None,
        description=(
            "Send later, at this time (with a time zone). The rule is evaluated when the"
            " allocation is sent: whoever matches then receives the voucher."
        ),
    )

    _send_at_in_the_future = field_validator("send_at")(future_send_at)
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


class Chunks(BaseModel):
    """How far a chunked write has got (docs/decisions/0068, 0069)."""

    done: int = Field(description="Chunks committed in PostgreSQL and Kafka: their employees hear")
    total: int = Field(
        description="Chunks expected, from the recipients counted when the write began"
    )


class Timings(BaseModel):
    requested_at: datetime
    inserting_at: datetime | None
    inserted_at: datetime | None
    published_at: datetime | None
    completed_at: datetime | None
    duration_seconds: float | None


class Approval(BaseModel):
    required: bool
    expires_at: datetime | None = Field(description="Unapproved by then, the request expires")
    decided_by: str | None = Field(description="Who approved or rejected it")
    decided_at: datetime | None
    reason: str | None = Field(description="Why it was rejected or cancelled")


class AllocationView(BaseModel):
    id: UUID
    status: AllocationStatus
    send_at: datetime | None = Field(
        description="When it is (or was) sent; the rule is evaluated then"
    )
    approval: Approval
    cancelled_by: str | None
    cancelled_at: datetime | None
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
    chunks: Chunks | None = Field(
        default=None,
        description=(
            "While `inserting` and after: chunks delivered of chunks expected; while some are"
            " delivered and others not, the allocation is partly delivered (0069)."
            " Null before the write began, and for allocations written before chunks"
        ),
    )

    @classmethod
    def from_row(
        cls, row: dict[str, Any], *, now: datetime, worker_wait_seconds: float
    ) -> AllocationView:
        completed = row["completed_at"]
        # A released schedule or an approval sends the request later than it was made.
        sent_at = max(t for t in (row["requested_at"], row["send_at"], row["decided_at"]) if t)
        waited = (now - sent_at).total_seconds() if row["status"] == "requested" else None
        return cls(
            id=row["id"],
            status=row["status"],
            send_at=row["send_at"],
            approval=Approval(
                required=row["approval_required"],
                expires_at=row["approval_expires_at"],
                decided_by=row["decided_by"],
                decided_at=row["decided_at"],
                reason=row["decision_reason"],
            ),
            cancelled_by=row["cancelled_by"],
            cancelled_at=row["cancelled_at"],
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
            chunks=(
                Chunks(done=row["chunks_published"], total=row["chunks_total"])
                if row.get("chunks_total")
                else None
            ),
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
    send_at: AwareDatetime | None = Field(
        default=None, description="For a scheduled allocation: the preview says it is recounted"
    )


class RejectRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Reason


class CancelRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Reason | None = None


class AuditEntry(BaseModel):
    seq: int
    step: str
    actor: str
    recorded_at: datetime
    detail: dict[str, Any]
    hash: str


class AuditTrail(BaseModel):
    allocation_id: UUID
    items: list[AuditEntry]


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
    approval_required: bool = Field(description="Sending waits for a second hr-admin")
    approval_reason: str | None
    recounted_at: datetime | None = Field(
        description=(
            "For a scheduled allocation: the rule is evaluated again at this time, and"
            " whoever matches then receives the voucher; these numbers are today's"
        )
    )


class PushCreate(BaseModel):
    """A notification for chosen employees: up to 10,000 ids, a department, or criteria."""

    model_config = ConfigDict(extra="forbid")

    title: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    body: Annotated[str, StringConstraints(max_length=4000)] = ""
    data: dict[str, Any] = Field(default_factory=dict)
    target: PushTarget
    action_url: ActionUrl | None = Field(
        default=None,
        description="The item's action link: an absolute http(s) URL or a path on this origin",
    )


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
    archived: bool
    action_url: str | None = Field(description="The item's action link, when it has one")
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
            archived=row["archived_at"] is not None,
            action_url=row["action_url"],
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


class AllocationSummary(BaseModel):
    """The allocation as the team view shows it."""

    id: UUID
    name: str
    amount: Annotated[Decimal, Field(decimal_places=2)]
    currency: str
    expires_on: date
    status: Literal["requested", "inserting", "published", "completed", "failed"]
    created_at: datetime
    completed_at: datetime | None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> AllocationSummary:
        voucher = row["voucher"]
        return cls(
            id=row["id"],
            name=voucher["name"],
            amount=Decimal(str(voucher["amount"])),
            currency=voucher["currency"],
            expires_on=voucher["expires_on"],
            status=row["status"],
            created_at=row["requested_at"],
            completed_at=row["completed_at"],
        )


class Team(BaseModel):
    department: str
    size: int = Field(description="Everyone in the department, its manager included")


class TeamRecipient(BaseModel):
    employee_id: str
    name: str
    code: str
    amount: Annotated[Decimal, Field(decimal_places=2)]
    currency: str
    delivery: Literal["live", "inbox"] = Field(
        description="live: it reached one of their open streams; inbox: it waits there"
    )
    read: bool
    read_at: datetime | None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> TeamRecipient:
        return cls(
            employee_id=row["employee_id"],
            name=row["name"],
            code=row["code"],
            amount=row["amount"],
            currency=row["currency"],
            delivery="live" if row["live"] else "inbox",
            read=row["read_at"] is not None,
            read_at=row["read_at"],
        )


class TeamView(BaseModel):
    allocation: AllocationSummary
    team: Team
    recipients: list[TeamRecipient]


class DeliveryFiguresView(BaseModel):
    total: int
    delivered_live: int
    waiting_in_inbox: int = Field(description="total - delivered_live")
    read: int
