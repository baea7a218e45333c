"""CloudEvents 1.0 envelope (JSON structured mode) and the data of Herald's events.

These models are the public contract of the Kafka topics: external producers write
`herald.allocation.requested` directly, so everything read from a topic is validated here.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any, Generic, Literal, TypeVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

CONTENT_TYPE = "application/cloudevents+json"

ALLOCATION_REQUESTED = "herald.allocation.requested"
VOUCHER_ALLOCATED = "herald.voucher.allocated"
ALLOCATION_COMPLETED = "herald.allocation.completed"
NOTIFICATION_PUSHED = "herald.notification.pushed"

SOURCE_ALLOCATION = "/herald/allocation"
SOURCE_INSERTER = "/herald/inserter"

DataT = TypeVar("DataT", bound=BaseModel)

Department = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
Grade = Annotated[str, StringConstraints(pattern=r"^G[1-9]$")]
NonEmptyText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


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


class Criteria(BaseModel):
    """Which employees an allocation targets; every given field must match (AND)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    departments: Annotated[list[Department], Field(min_length=1, max_length=200)] | None = None
    grades: Annotated[list[Grade], Field(min_length=1, max_length=9)] | None = None
    min_years_experience: Annotated[int, Field(ge=0, le=70)] | None = None
    max_years_experience: Annotated[int, Field(ge=0, le=70)] | None = None

    @model_validator(mode="after")
    def _years_in_order(self) -> Criteria:
        low, high = self.min_years_experience, self.max_years_experience
        if low is not None and high is not None and low > high:
            raise ValueError("min_years_experience must not exceed max_years_experience")
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


def encode(event: dict[str, Any]) -> bytes:
    """Compact JSON, the bytes that go on the wire and into SSE `data:` lines."""
    return json.dumps(event, separators=(",", ":"), ensure_ascii=False).encode()


def request_fingerprint(voucher: VoucherSpec, criteria: Criteria) -> str:
    """A stable digest of what an allocation asks for, to tell a replay from a new request."""
    body = {
        "voucher": voucher.model_dump(mode="json"),
        "criteria": criteria.model_dump(mode="json"),
    }
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
