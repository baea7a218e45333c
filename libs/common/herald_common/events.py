"""CloudEvents 1.0 envelope (JSON structured mode) and the data of Herald's events.

These models are the public contract of the Kafka topics: external producers write
`herald.allocation.requested` directly, so everything read from a topic is validated here.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any, Final, Generic, Literal, TypeVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

CONTENT_TYPE: Final = "application/cloudevents+json"

ALLOCATION_REQUESTED: Final = "herald.allocation.requested"
VOUCHER_ALLOCATED: Final = "herald.voucher.allocated"
ALLOCATION_COMPLETED: Final = "herald.allocation.completed"
# Progress of one allocation, on the completed topic (same key) before its completion.
ALLOCATION_PROGRESS: Final = "herald.allocation.progress"
# A notifier's count of the allocation's vouchers it handed to open streams (SSE only).
# An allocation's step before the inserter has it: waiting for approval or its time,
# approved, rejected, expired, cancelled (docs/decisions/0045).
ALLOCATION_STATUS: Final = "herald.allocation.status"
ALLOCATION_DELIVERED: Final = "herald.allocation.delivered"
NOTIFICATION_REQUESTED: Final = "herald.notification.requested"
NOTIFICATION_PUSHED: Final = "herald.notification.pushed"
# A per-employee kind on the pushed topic: a manager's summary of one allocation.
ALLOCATION_SUMMARY: Final = "herald.allocation.summary"
# Revoking vouchers of a completed allocation: the request, one event per employee whose
# voucher was voided, the outcome (on the completed topic) and each manager's summary.
REVOCATION_REQUESTED: Final = "herald.revocation.requested"
VOUCHER_REVOKED: Final = "herald.voucher.revoked"
REVOCATION_COMPLETED: Final = "herald.revocation.completed"
REVOCATION_SUMMARY: Final = "herald.revocation.summary"

SOURCE_ALLOCATION = "/herald/allocation"
SOURCE_INSERTER = "/herald/inserter"
SOURCE_PUSH = "/herald/push"
SOURCE_MAILER = "/herald/mailer"
SOURCE_NOTIFIER = "/herald/notifier"
# Between channels replicas: what every replica's Pusher sockets should hear.
CHANNEL_BROADCAST = "herald.channels.broadcast"
SOURCE_CHANNELS = "/herald/channels"

DataT = TypeVar("DataT", bound=BaseModel)

# PostgreSQL text cannot hold U+0000, so identifiers that are stored or queried exclude it.
Department = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=64, pattern=r"^[^\x00]+$"),
]
EmployeeId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]
Grade = Annotated[str, StringConstraints(pattern=r"^G[1-9]$")]
NonEmptyText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
# An inbox item's action link: an absolute http(s) URL, or a path on Herald's own origin
# (one "/", not "//host"). No other scheme: a `javascript:` link would run in the console.
ActionUrl = Annotated[
    str,
    StringConstraints(max_length=2000, pattern=r"^(https?://\S+|/|/[^/\\\s]\S*)$"),
]


class CloudEvent(BaseModel, Generic[DataT]):
    """CloudEvents 1.0; extension attributes are kept, unknown core values are rejected."""

    model_config = ConfigDict(extra="allow", frozen=True)

    specversion: Literal["1.0"]
    id: NonEmptyText
    source: NonEmptyText
    type: NonEmptyText
    time: datetime | None = None
    subject: str | None = None
    datacontenttype: Literal["application/json"] = "application/json"
    data: DataT


class VoucherSpec(BaseModel):
    """What every matched employee receives."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
    amount: Annotated[Decimal, Field(gt=0, max_digits=12, decimal_places=2)]
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
    expires_on: date
    code_prefix: Annotated[str, StringConstraints(pattern=r"^[A-Z0-9]{2,12}$")]


NO_AUDIENCE = (
    "criteria must name an audience: set departments, grades, min_years_experience or"
    " max_years_experience, or all_employees: true to reach every employee"
)


class Criteria(BaseModel):
    """Which employees an allocation targets; every given field must match (AND).

    A rule always says whom it targets: `{}` is refused, and everyone is the explicit
    `all_employees: true` (alone), so no omission can reach the whole company.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    departments: Annotated[list[Department], Field(min_length=1, max_length=200)] | None = None
    grades: Annotated[list[Grade], Field(min_length=1, max_length=9)] | None = None
    min_years_experience: Annotated[int, Field(ge=0, le=70)] | None = None
    max_years_experience: Annotated[int, Field(ge=0, le=70)] | None = None
    all_employees: Literal[True] | None = Field(
        default=None, description="true to target every employee; never combined with a filter"
    )

    @model_validator(mode="after")
    def _an_explicit_audience(self) -> Criteria:
        low, high = self.min_years_experience, self.max_years_experience
        if low is not None and high is not None and low > high:
            raise ValueError("min_years_experience must not exceed max_years_experience")
        filtered = any(value is not None for value in (self.departments, self.grades, low, high))
        if self.all_employees and filtered:
            raise ValueError("all_employees cannot be combined with departments, grades or years")
        if not filtered and not self.all_employees:
            raise ValueError(NO_AUDIENCE)
        return self


class AllocationRequested(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    allocation_id: UUID
    voucher: VoucherSpec
    criteria: Criteria
    requested_at: datetime


class IssuedVoucher(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    code: str
    amount: Decimal
    currency: str
    expires_on: date


class VoucherAllocated(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    allocation_id: UUID
    employee_id: str
    department: str
    title: str
    body: str
    voucher: IssuedVoucher


class EmployeeAddressed(BaseModel):
    """What every per-employee event's data carries, whatever its type: who it is for."""

    model_config = ConfigDict(extra="allow", frozen=True)

    employee_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    department: Annotated[str, StringConstraints(min_length=1, max_length=64)]


class PushTarget(BaseModel):
    """Exactly one way of naming who receives a push."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    employee_ids: Annotated[list[EmployeeId], Field(min_length=1, max_length=10_000)] | None = None
    department: Department | None = None
    criteria: Criteria | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> PushTarget:
        given = [n for n in ("employee_ids", "department", "criteria") if getattr(self, n)]
        if len(given) != 1:
            raise ValueError("give exactly one of employee_ids, department or criteria")
        return self


class NotificationRequested(BaseModel):
    """Data of `herald.notification.requested`: another system asks to notify employees."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    push_id: UUID
    requested_by: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    title: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    body: Annotated[str, StringConstraints(max_length=4000)] = ""
    data: dict[str, Any] = Field(default_factory=dict)
    target: PushTarget
    requested_at: datetime
    action_url: ActionUrl | None = None


class AllocationCompleted(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    allocation_id: UUID
    status: Literal["completed", "failed"]
    matched: int
    inserted: int
    published: int
    reason: str | None = None


class NotificationPushed(BaseModel):
    """A generic push to one employee: like a voucher event, one per recipient."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    push_id: UUID
    employee_id: str
    department: str
    title: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    body: Annotated[str, StringConstraints(max_length=4000)]
    data: dict[str, Any] = Field(default_factory=dict)


RevokeReason = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)
]


class RevocationRequested(BaseModel):
    """Data of `herald.revocation.requested`: void vouchers of a completed allocation."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    revocation_id: UUID
    allocation_id: UUID
    requested_by: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    reason: RevokeReason
    # None: every voucher of the allocation; else these employees' vouchers.
    employee_ids: Annotated[list[EmployeeId], Field(min_length=1, max_length=100_000)] | None = None
    requested_at: datetime


class VoucherRevoked(BaseModel):
    """Data of `herald.voucher.revoked`: one employee's voucher was voided.

    `revoked_notification_id` is the id of the voucher's own notification, always lower
    than this event's id.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    revocation_id: UUID
    allocation_id: UUID
    revoked_notification_id: int
    employee_id: str
    department: str
    title: str
    body: str
    reason: str
    voucher: IssuedVoucher


class RevocationCompleted(BaseModel):
    """Data of `herald.revocation.completed`: how many vouchers a revocation voided."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    revocation_id: UUID
    allocation_id: UUID
    status: Literal["completed", "failed"]
    revoked: int
    published: int
    reason: str | None = None


class AllocationProgress(BaseModel):
    """Data of `herald.allocation.progress`: the counts once a phase of the allocation is done."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    allocation_id: UUID
    # "chunk": one chunk of the allocation committed in PostgreSQL and in Kafka, its
    # employees told (docs/decisions/0068); "inserted": every row written; "published":
    # every event committed, ahead of the completion.
    phase: Literal["chunk", "inserted", "published"]
    # Recipients counted when the write began (exact from "inserted" on), rows written
    # and events committed so far.
    matched: int
    inserted: int
    published: int
    # Chunks committed in Kafka, of how many (expected; exact once the last is written).
    # None from a worker that wrote the allocation whole.
    chunks_done: int | None = None
    chunks_total: int | None = None


# The steps and statuses `herald.allocation.status` carries.
StatusStep = Literal["requested", "approved", "rejected", "expired", "scheduled", "cancelled"]
StatusAfterStep = Literal[
    "pending_approval", "scheduled", "requested", "rejected", "expired", "cancelled"
]


class AllocationStatus(BaseModel):
    """Data of `herald.allocation.status`: a step of an allocation before it is written."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    allocation_id: UUID
    # The allocation's status after the step.
    status: StatusAfterStep
    step: StatusStep
    # Who took the step: an hr-admin's subject, or `herald` for what Herald does by itself.
    actor: str
    send_at: datetime | None = None
    reason: str | None = None


class AllocationDelivered(BaseModel):
    """Data of `herald.allocation.delivered`: vouchers one notifier replica delivered live."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    allocation_id: UUID
    delivered: int
    replica: str


def event_type(value: bytes | None) -> str | None:
    """The `type` of a structured-mode CloudEvent, or None when the record has none."""
    if value is None:
        return None
    try:
        event = json.loads(value)
    except (ValueError, RecursionError):
        # RecursionError: JSON nested deeper than the parser's stack ("[" * 100000).
        return None
    kind = event.get("type") if isinstance(event, dict) else None
    return kind if isinstance(kind, str) else None


def envelope(
    *,
    event_id: str,
    source: str,
    event_type: str,
    data: BaseModel | dict[str, Any],
    subject: str | None = None,
    time: datetime | None = None,
) -> dict[str, Any]:
    """A structured-mode envelope as plain JSON-ready data."""
    body = data.model_dump(mode="json") if isinstance(data, BaseModel) else data
    event: dict[str, Any] = {
        "specversion": "1.0",
        "id": event_id,
        "source": source,
        "type": event_type,
        "time": (time or datetime.now(UTC)).isoformat(),
        "datacontenttype": "application/json",
        "data": body,
    }
    if subject is not None:
        event["subject"] = subject
    return event


# Characters that are legal raw inside JSON strings but that line-splitting readers
# (str.splitlines and its kin) treat as line breaks. Escaped, they cannot split an SSE
# `data:` line in any client; the JSON value is unchanged.
_LINE_BREAKERS = {c: f"\\u{ord(c):04x}" for c in "\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"}
_ESCAPE_LINE_BREAKERS = str.maketrans(_LINE_BREAKERS)


def json_text(value: Any) -> str:
    """Compact one-line JSON text, exactly as `encode` writes it inside an event."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).translate(
        _ESCAPE_LINE_BREAKERS
    )


def encode(event: dict[str, Any]) -> bytes:
    """Compact JSON on one line: the bytes that go on the wire and into SSE `data:` lines."""
    return json_text(event).encode()


def request_fingerprint(voucher: VoucherSpec, criteria: Criteria) -> str:
    """A stable digest of what an allocation asks for, to tell a replay from a new request."""
    body = {
        "voucher": voucher.model_dump(mode="json"),
        "criteria": criteria.model_dump(mode="json"),
    }
    if body["criteria"]["all_employees"] is None:
        # Rules from before `all_employees` existed keep their digest (and their replays).
        del body["criteria"]["all_employees"]
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def revocation_fingerprint(allocation_id: UUID, reason: str, employee_ids: list[str] | None) -> str:
    """A stable digest of a revoke request, to tell a replay from a new request."""
    content = {
        "allocation_id": str(allocation_id),
        "reason": reason,
        "employee_ids": None if employee_ids is None else sorted(set(employee_ids)),
    }
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


def push_fingerprint(
    title: str,
    body: str,
    data: dict[str, Any],
    target: PushTarget,
    action_url: str | None = None,
) -> str:
    """A stable digest of a push's content, to tell a replay from a new request."""
    content = {
        "title": title,
        "body": body,
        "data": data,
        "target": target.model_dump(mode="json", exclude_none=True),
    }
    if action_url is not None:  # absent for pushes without one, as before it existed
        content["action_url"] = action_url
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()
