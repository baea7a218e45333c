"""Who is calling, as established by a verified token."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

EMPLOYEE: Final = "employee"
MANAGER: Final = "manager"
HR_ADMIN: Final = "hr-admin"
SERVICE: Final = "service"
ROLES: Final = frozenset({EMPLOYEE, MANAGER, HR_ADMIN, SERVICE})


@dataclass(frozen=True, slots=True)
class Principal:
    subject: str  # the employee id, or a service's name for role `service`
    roles: frozenset[str]
    manages: str | None = None  # the department a manager manages
    expires_at: int | None = None  # the token's `exp`, for cookies that must not outlive it
    # The `department` claim, where the identity provider adds one: a routing hint only
    # (docs/decisions/0078); what a stream reads follows the employee directory.
    department: str | None = None

    def has(self, *roles: str) -> bool:
        return not self.roles.isdisjoint(roles)

    @property
    def employee_id(self) -> str | None:
        """The employee behind the token; services are not employees."""
        return self.subject if self.has(EMPLOYEE, MANAGER, HR_ADMIN) else None
