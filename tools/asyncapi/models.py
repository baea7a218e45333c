"""Payloads that no consumer parses with a model of its own.

The mailer builds its summary's data as a dict and the notifier its control frames as JSON
text; these models describe them for the document, and tests/deploy checks the services'
own output against the generated schemas.
"""

from __future__ import annotations

from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field


class _Amounts(BaseModel):
    """What every summary's totals say of the money: each, in total, and the currency."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    amount_each: str = Field(pattern=r"^[0-9]+\.[0-9]{2}$")
    amount_total: str = Field(pattern=r"^[0-9]+\.[0-9]{2}$")
    currency: str = Field(pattern=r"^[A-Z]{3}$")


class SummaryTotals(_Amounts):
    team_recipients: int = Field(ge=0, description="Members of the manager's team who received it.")
    team_size: int = Field(
        ge=0, description="The team: everyone in the manager's department, the manager included."
    )
    allocation_recipients: int = Field(ge=0, description="Everyone who received it.")


class AllocationSummary(BaseModel):
    """Data of `herald.allocation.summary`: one manager's summary of an allocation."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    allocation_id: UUID
    employee_id: str = Field(description="The manager.")
    department: str = Field(description="The manager's department.")
    title: str
    body: str
    link: str = Field(
        description="The console's page of the team's part of the allocation "
        "(`<HERALD_MAILER_PUBLIC_BASE_URL>/allocations/<id>/team`); also the inbox item's "
        "`action_url`."
    )
    totals: SummaryTotals


class RevocationTotals(_Amounts):
    team_revoked: int = Field(ge=1, description="Members of the manager's team it revoked from.")
    revoked: int = Field(ge=0, description="Vouchers the whole revocation voided.")


class RevocationSummary(BaseModel):
    """Data of `herald.revocation.summary`: one manager's summary of a revocation."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    revocation_id: UUID
    allocation_id: UUID
    employee_id: str = Field(description="The manager.")
    department: str = Field(description="The manager's department.")
    title: str
    body: str
    reason: str = Field(description="Why the vouchers were revoked.")
    link: str = Field(
        description="The console's page of the team's part of the allocation, from the"
        " public base URL."
    )
    totals: RevocationTotals


class UnreadCount(BaseModel):
    """`data:` of an `unread-count` frame: the employee's unread notifications, now."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    unread: int = Field(ge=0)


class NotificationState(BaseModel):
    """`data:` of a `notification-state` frame: one inbox item's state after a change
    made on any of the employee's devices (read, unread, archive, unarchive)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: int = Field(ge=1, description="The notification id.")
    read: bool
    archived: bool


class NotificationsReadAll(BaseModel):
    """`data:` of a `notifications-read-all` frame: every item up to `up_to` is read."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    up_to: int = Field(ge=1, description="The newest notification id that was marked read.")


class StreamReset(BaseModel):
    """`data:` of a `reset` frame: too much was missed to replay; reload the inbox."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    reason: str
    limit: int = Field(ge=1, description="The replay limit (HERALD_NOTIFIER_REPLAY_LIMIT).")
    inbox: str = Field(description="Where to reload the inbox from (REST).")


class StreamTokenExpired(BaseModel):
    """`data:` of a `token-expired` frame: the stream's token expired, so the stream ends."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    reason: str
