"""/v1/allocations: request an allocation, read its progress, list past ones."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Response

from herald_allocation.api.errors import unprocessable
from herald_allocation.api.schemas import AllocationCreate, AllocationPage, AllocationView
from herald_allocation.domain.allocations import (
    IdempotencyConflict,
    InvalidCursor,
    UnknownDepartments,
)
from herald_allocation.runtime import AllocationRuntime, get_runtime

router = APIRouter(prefix="/v1/allocations", tags=["allocations"])

Runtime = Annotated[AllocationRuntime, Depends(get_runtime)]


@router.post("", status_code=202, response_model=AllocationView)
async def create_allocation(
    body: AllocationCreate,
    response: Response,
    runtime: Runtime,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> AllocationView:
    if idempotency_key is not None and not (
        1 <= len(idempotency_key) <= 255
        and idempotency_key.isascii()
        and idempotency_key.isprintable()
    ):
        raise unprocessable(
            ["header", "Idempotency-Key"], "must be 1-255 printable ASCII characters", "value_error"
        )
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


@router.get("/{allocation_id}", response_model=AllocationView)
async def get_allocation(allocation_id: UUID, runtime: Runtime) -> AllocationView:
    row = await runtime.allocations.get(allocation_id)
    if row is None:
        raise HTTPException(404, f"allocation {allocation_id} not found")
    return AllocationView.from_row(row)


@router.get("", response_model=AllocationPage)
async def list_allocations(
    runtime: Runtime,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> AllocationPage:
    try:
        rows, next_cursor = await runtime.allocations.page(limit, cursor)
    except InvalidCursor as exc:
        raise HTTPException(400, str(exc)) from exc
    return AllocationPage(items=[AllocationView.from_row(r) for r in rows], next_cursor=next_cursor)
