"""What one manager is told about one allocation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID


@dataclass(frozen=True, slots=True)
class Allocation:
    allocation_id: UUID
    voucher: dict[str, Any]
    criteria: dict[str, Any]
    requested_at: datetime
    completed_at: datetime | None
    recipients: int

    @property
    def amount(self) -> Decimal:
        return Decimal(str(self.voucher["amount"]))

    @property
    def currency(self) -> str:
        return str(self.voucher["currency"])


@dataclass(frozen=True, slots=True)
class Manager:
    employee_id: str
    name: str
    email: str
    department: str


@dataclass(frozen=True, slots=True)
class Team:
    """A manager's team: the department they manage, everyone in it (herald_common.teams)."""

    department: str
    size: int


@dataclass(frozen=True, slots=True)
class TeamMember:
    employee_id: str
    name: str
    department: str
    grade: str


@dataclass(frozen=True, slots=True)
class ManagerSummary:
    allocation: Allocation
    manager: Manager
    # The first members by id, at most the configured number; the counts cover everyone.
    members: list[TeamMember]
    team: Team
    team_recipients: int

    @property
    def unlisted(self) -> int:
        return self.team_recipients - len(self.members)

    @property
    def team_amount(self) -> Decimal:
        return self.allocation.amount * self.team_recipients


@dataclass(frozen=True, slots=True)
class Revocation:
    revocation_id: UUID
    allocation: Allocation
    reason: str
    revoked_by: str
    revoked_at: datetime | None
    revoked: int

    @property
    def allocation_id(self) -> UUID:
        return self.allocation.allocation_id


@dataclass(frozen=True, slots=True)
class RevokedMember:
    employee_id: str
    name: str
    department: str
    grade: str


@dataclass(frozen=True, slots=True)
class RevocationSummary:
    revocation: Revocation
    manager: Manager
    # The first members by id, at most the configured number; the count covers everyone.
    members: list[RevokedMember]
    team_revoked: int

    @property
    def allocation(self) -> Allocation:
        return self.revocation.allocation

    @property
    def unlisted(self) -> int:
        return self.team_revoked - len(self.members)

    @property
    def team_amount(self) -> Decimal:
        return self.allocation.amount * self.team_revoked
