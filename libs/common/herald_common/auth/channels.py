"""Channel names and who may read them.

private-employee-<employee id>     one employee's notifications
private-department-<department>    every notification of a department (its manager, hr-admin)
private-allocation-<allocation id> an allocation's progress (hr-admin)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final, Literal
from uuid import UUID

from herald_common.auth.principal import HR_ADMIN, MANAGER, Principal

CHANNEL_PATTERN: Final = re.compile(r"^[-a-zA-Z0-9_=@,.;]+$")
MAX_CHANNEL_LENGTH: Final = 200
_PREFIXES: Final = {
    "private-employee-": "employee",
    "private-department-": "department",
    "private-allocation-": "allocation",
}

ChannelKind = Literal["employee", "department", "allocation"]


class InvalidChannel(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Channel:
    kind: ChannelKind
    key: str

    @property
    def name(self) -> str:
        return f"private-{self.kind}-{self.key}"


def parse_channel(name: str) -> Channel:
    if not name or len(name) > MAX_CHANNEL_LENGTH or not CHANNEL_PATTERN.fullmatch(name):
        raise InvalidChannel(
            f"channel names are 1-{MAX_CHANNEL_LENGTH} characters of [-a-zA-Z0-9_=@,.;]"
        )
    for prefix, kind in _PREFIXES.items():
        if name.startswith(prefix) and len(name) > len(prefix):
            key = name[len(prefix) :]
            if kind == "allocation":
                try:
                    key = str(UUID(key))
                except ValueError as exc:
                    raise InvalidChannel("an allocation channel names an allocation id") from exc
            return Channel(kind, key)  # type: ignore[arg-type]
    raise InvalidChannel(
        "unknown channel; use private-employee-<id>, private-department-<name>"
        " or private-allocation-<id>"
    )


def employee_channel(employee_id: str) -> Channel:
    return Channel("employee", employee_id)


def can_read(principal: Principal, channel: Channel) -> bool:
    if channel.kind == "employee":
        return principal.employee_id == channel.key
    if channel.kind == "department":
        return principal.has(HR_ADMIN) or (
            principal.has(MANAGER) and principal.manages == channel.key
        )
    return principal.has(HR_ADMIN)
