"""POST /v1/notifications: other systems notify employees the way the voucher flow does."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, HTTPException, Response

from herald_allocation.api.errors import unprocessable
from herald_allocation.api.idempotency import (
    IdempotencyKeyHeader,
    answer_accepted,
    idempotency_conflict,
    valid_idempotency_key,
)
from herald_allocation.api.schemas import PushCreate, PushView
from herald_allocation.domain.accepting import IdempotencyConflict
from herald_allocation.domain.allocations import UnknownDepartments
from herald_allocation.runtime import AllocationRuntime, get_runtime
from herald_common.auth.principal import HR_ADMIN, SERVICE, Principal
from herald_web.auth import requires
from herald_web.errors import error_responses

router = APIRouter(tags=["pushes"])

Runtime = Annotated[AllocationRuntime, Depends(get_runtime)]
Pusher = Annotated[Principal, Depends(requires(SERVICE, HR_ADMIN))]


@router.post(
    "/v1/notifications",
    status_code=202,
    response_model=PushView,
    responses=error_responses(400, 401, 403, 413, 429),
)
async def push_notification(
    body: PushCreate,
    response: Response,
    runtime: Runtime,
    principal: Pusher,
    idempotency_key: IdempotencyKeyHeader = None,
) -> PushView:
    """Notify explicit employees, a department, or everyone matching criteria.

    Delivery is asynchronous: the notification lands in each inbox and open stream.
    """
    runtime.push_limiter.check(principal.subject)
    valid_idempotency_key(idempotency_key)
    try:
        accepted = await runtime.pushes.request(
            requested_by=principal.subject,
            title=body.title,
            body=body.body,
            data=body.data,
            target=body.target,
            action_url=body.action_url,
            idempotency_key=idempotency_key,
        )
    except IdempotencyConflict as exc:
        raise idempotency_conflict() from exc
    except UnknownDepartments as exc:
        raise unprocessable(["body", "target"], str(exc), "unknown_department") from exc
    view = PushView.from_row(accepted.row)
    answer_accepted(response, f"/v1/pushes/{view.id}", replayed=accepted.replayed)
    return view


@router.get(
    "/v1/pushes/{push_id}", response_model=PushView, responses=error_responses(401, 403, 404)
)
async def get_push(push_id: UUID, runtime: Runtime, principal: Pusher) -> PushView:
    """A push's progress. Services see their own pushes; hr-admin sees all."""
    owner = None if principal.has(HR_ADMIN) else principal.subject
    row = await runtime.pushes.get(push_id, owner)
    if row is None:
        raise HTTPException(404, f"push {push_id} not found")
    return PushView.from_row(row)
