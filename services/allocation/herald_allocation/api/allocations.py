"""/v1/allocations: request an allocation, preview its reach, read progress, list past ones.

All of it is for the `hr-admin` role.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Response

from herald_allocation.api.errors import unprocessable, valid_idempotency_key
from herald_allocation.api.schemas import (
    AllocationCreate,
    AllocationPage,
    AllocationView,
    MatchPreview,
    PreviewRequest,
)
from herald_allocation.domain.allocations import (
    IdempotencyConflict,
    InvalidCursor,
    UnknownDepartments,
)
from herald_allocation.runtime import AllocationRuntime, get_runtime
from herald_common.auth.principal import HR_ADMIN, Principal
from herald_web.auth import requires
from herald_web.errors import error_responses

router = APIRouter(prefix="/v1/allocations", tags=["allocations"])

Runtime = Annotated[AllocationRuntime, Depends(get_runtime)]
HrAdmin = Annotated[Principal, Depends(requires(HR_ADMIN))]


@router.post(
    "",
    status_code=202,
    response_model=AllocationView,
    responses=error_responses(400, 401, 403, 413, 429),
)
async def create_allocation(
    body: AllocationCreate,
    response: Response,
    runtime: Runtime,
    principal: HrAdmin,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> AllocationView:
    """Allocate a voucher to every employee matching the criteria (asynchronously)."""
    runtime.allocation_limiter.check(principal.subject)
    valid_idempotency_key(idempotency_key)
    try:
        accepted = await runtime.allocations.request(body.voucher, body.criteria, idempotency_key)
    except IdempotencyConflict as exc:
        raise unprocessable(
            ["header", "Idempotency-Key"],
            "this key was already used with a different request body",
            "idempotency_conflict",
        ) from exc
    except UnknownDepartments as exc:
        raise unprocessable(
            ["body", "criteria", "departments"],
            str(exc),
            "unknown_department",
            input=exc.departments,
        ) from exc
    view = AllocationView.from_row(accepted.allocation)
    response.headers["Location"] = f"/v1/allocations/{view.id}"
    if accepted.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    runtime.metrics.allocations_requested.labels("replayed" if accepted.replayed else "new").inc()
    return view


@router.post(":preview", response_model=MatchPreview, responses=error_responses(400, 401, 403, 413))
async def preview_allocation(
    body: PreviewRequest, runtime: Runtime, principal: HrAdmin
) -> MatchPreview:
    """How many employees the criteria match today. Writes nothing."""
    try:
        matched = await runtime.allocations.count_matching(body.criteria, date.today())
    except UnknownDepartments as exc:
        raise unprocessable(
            ["body", "criteria", "departments"], str(exc), "unknown_department"
        ) from exc
    return MatchPreview(matched=matched)


@router.get(
    "/{allocation_id}", response_model=AllocationView, responses=error_responses(401, 403, 404)
)
async def get_allocation(
    allocation_id: UUID, runtime: Runtime, principal: HrAdmin
) -> AllocationView:
    row = await runtime.allocations.get(allocation_id)
    if row is None:
        raise HTTPException(404, f"allocation {allocation_id} not found")
    return AllocationView.from_row(row)


@router.get("", response_model=AllocationPage, responses=error_responses(400, 401, 403))
async def list_allocations(
    runtime: Runtime,
    principal: HrAdmin,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> AllocationPage:
    """Newest first. Pass `next_cursor` back as `cursor` for the next page."""
    try:
        rows, next_cursor = await runtime.allocations.page(limit, cursor)
    except InvalidCursor as exc:
        raise HTTPException(400, str(exc)) from exc
    return AllocationPage(items=[AllocationView.from_row(r) for r in rows], next_cursor=next_cursor)
