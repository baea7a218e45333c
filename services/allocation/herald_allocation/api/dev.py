"""Dev-only token helper: sign in as a demo employee, manager or hr-admin.

Mounted only when HERALD_AUTH_DEV_MODE is on; it mints real tokens with the configured
HS256 secret, so it must never be enabled where that secret protects real data.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query

from herald_allocation.api.schemas import DemoPeople, DemoPerson, DevToken, DevTokenRequest
from herald_allocation.domain.dev_tokens import UnknownEmployee, demo_people, issue_dev_token
from herald_allocation.runtime import AllocationRuntime, get_runtime
from herald_web.errors import error_responses

router = APIRouter(prefix="/v1/dev", tags=["development"])


@router.post("/tokens", response_model=DevToken, responses=error_responses(400, 404))
async def dev_token(
    body: DevTokenRequest, runtime: Annotated[AllocationRuntime, Depends(get_runtime)]
) -> DevToken:
    try:
        issued = await issue_dev_token(
            runtime.pool, runtime.settings.auth, body.employee_id, list(body.roles)
        )
    except UnknownEmployee as exc:
        raise HTTPException(404, str(exc)) from exc
    return DevToken(**issued)


@router.get("/people", response_model=DemoPeople)
async def people(
    runtime: Annotated[AllocationRuntime, Depends(get_runtime)],
    per_department: Annotated[int, Query(ge=1, le=20)] = 3,
    q: Annotated[
        str | None, Query(max_length=64, description="id prefix or part of a name")
    ] = None,
) -> DemoPeople:
    """Whom the sign-in page offers: hr-admins, each department's manager, a few employees.

    With `q`: the people whose id starts with it or whose name contains it.
    """
    rows = await demo_people(runtime.pool, per_department, q.strip() if q else None)
    return DemoPeople(people=[DemoPerson(**row) for row in rows])
