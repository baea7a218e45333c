"""Who is calling. The only place that knows: swap `current_employee` for real authentication.

Until then the caller names themselves in `X-Employee-Id`, accepted only in dev mode.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, HTTPException

from herald_mailer.runtime import MailerRuntime, get_runtime


async def current_employee(
    runtime: Annotated[MailerRuntime, Depends(get_runtime)],
    employee_id: Annotated[str | None, Header(alias="X-Employee-Id", max_length=64)] = None,
) -> str:
    if not runtime.settings.dev_mode:
        raise HTTPException(401, "authentication is required; dev mode is off")
    if not employee_id:
        raise HTTPException(401, "name yourself in the X-Employee-Id header (dev mode)")
    if not await runtime.preferences.employee_exists(employee_id):
        raise HTTPException(404, f"unknown employee {employee_id!r}")
    return employee_id


CurrentEmployee = Annotated[str, Depends(current_employee)]
