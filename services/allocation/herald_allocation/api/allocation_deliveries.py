"""An allocation as delivered: a team's part (its manager, hr-admins) and HR's figures.

A manager sees the department they manage and no other (403); an hr-admin names the
department. An unknown allocation is 404 for both.
"""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import StreamingResponse

from herald_allocation.api.dependencies import HrAdmin, ManagerOrHr, Runtime
from herald_allocation.api.errors import unprocessable
from herald_allocation.api.schemas import (
    AllocationSummary,
    DeliveryFiguresView,
    Team,
    TeamRecipient,
    TeamView,
)
from herald_allocation.runtime import AllocationRuntime
from herald_common.auth.principal import HR_ADMIN, Principal
from herald_common.events import Department
from herald_web.errors import error_responses

router = APIRouter(prefix="/v1/allocations", tags=["allocations"])


def team_department(principal: Principal, asked: str | None) -> str:
    """The department the caller may see: a manager's own, or the one an hr-admin names."""
    if HR_ADMIN in principal.roles:
        if asked is None:
            raise unprocessable(
                ["query", "department"], "an hr-admin names the department", "missing"
            )
        return asked
    if principal.manages is None:
        raise HTTPException(403, "the token names no department this manager manages")
    if asked is not None and asked != principal.manages:
        raise HTTPException(403, f"a manager of {principal.manages} may not see {asked}")
    return principal.manages


async def _allocation(runtime: AllocationRuntime, allocation_id: UUID) -> AllocationSummary:
    row = await runtime.deliveries.allocation(allocation_id)
    if row is None:
        raise HTTPException(404, f"allocation {allocation_id} not found")
    return AllocationSummary.from_row(row)


@router.get(
    "/{allocation_id}/team", response_model=TeamView, responses=error_responses(401, 403, 404)
)
async def allocation_team(
    allocation_id: UUID,
    runtime: Runtime,
    principal: ManagerOrHr,
    department: Annotated[Department | None, Query()] = None,
) -> TeamView:
    """Who in the team got what, delivered live or waiting in the inbox, and read."""
    name = team_department(principal, department)
    allocation = await _allocation(runtime, allocation_id)
    rows = await runtime.deliveries.team(allocation_id, name)
    return TeamView(
        allocation=allocation,
        team=Team(department=name, size=await runtime.deliveries.team_size(name)),
        recipients=[TeamRecipient.from_row(r) for r in rows],
    )


@router.get(
    "/{allocation_id}/deliveries",
    response_model=DeliveryFiguresView,
    responses=error_responses(401, 403, 404),
)
async def allocation_deliveries(
    allocation_id: UUID, runtime: Runtime, principal: HrAdmin
) -> DeliveryFiguresView:
    """Delivered live, waiting in the inbox and read, over every recipient."""
    await _allocation(runtime, allocation_id)
    figures = await runtime.deliveries.figures(allocation_id)
    return DeliveryFiguresView(
        total=figures.total,
        delivered_live=figures.delivered_live,
        waiting_in_inbox=figures.waiting_in_inbox,
        read=figures.read,
    )


@router.get(
    "/{allocation_id}/deliveries.csv",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"text/csv": {}}, "description": "One row per recipient"},
        **error_responses(401, 403, 404),
    },
)
async def allocation_deliveries_csv(
    allocation_id: UUID, runtime: Runtime, principal: HrAdmin
) -> StreamingResponse:
    """`employee_id,name,department,code,amount,currency,delivery,read_at`, formula-safe."""
    await _allocation(runtime, allocation_id)
    return StreamingResponse(
        runtime.deliveries.csv(allocation_id),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="deliveries-{allocation_id}.csv"'},
    )
