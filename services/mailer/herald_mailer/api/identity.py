"""Who is calling: the employee behind the Bearer token (any employee-like role)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException

from herald_common.auth.principal import EMPLOYEE, HR_ADMIN, MANAGER, Principal
from herald_mailer.runtime import MailerRuntime, get_runtime
from herald_web.auth import requires


async def current_employee(
    runtime: Annotated[MailerRuntime, Depends(get_runtime)],
    principal: Annotated[Principal, Depends(requires(EMPLOYEE, MANAGER, HR_ADMIN))],
) -> str:
    employee_id = principal.employee_id
    assert employee_id is not None  # guaranteed by the roles admitted above
    if not await runtime.preferences.employee_exists(employee_id):
        raise HTTPException(404, f"unknown employee {employee_id!r}")
    return employee_id


CurrentEmployee = Annotated[str, Depends(current_employee)]
