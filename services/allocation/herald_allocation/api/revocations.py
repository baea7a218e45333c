"""Revoking a completed allocation's vouchers, whole or for listed employees (hr-admin).

`POST /v1/allocations/{id}:revoke` accepts the request (202) and the inserter voids the
vouchers and tells each employee; `GET .../revocations` follows it (docs/decisions/0047).
"""

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
from herald_allocation.api.schemas import RevocationList, RevocationView, RevokeRequest
from herald_allocation.domain.accepting import IdempotencyConflict
from herald_allocation.domain.revocations import (
    AllocationNotFound,
    AlreadyRevoked,
    NotRevocable,
    UnknownRecipients,
)
from herald_allocation.runtime import AllocationRuntime, get_runtime
from herald_common.auth.principal import HR_ADMIN, Principal
from herald_web.auth import requires
from herald_web.errors import error_responses

router = APIRouter(prefix="/v1/allocations", tags=["revocations"])

Runtime = Annotated[AllocationRuntime, Depends(get_runtime)]
HrAdmin = Annotated[Principal, Depends(requires(HR_ADMIN))]


def _not_found(allocation_id: UUID) -> HTTPException:
    return HTTPException(404, f"allocation {allocation_id} not found")


@router.post(
    "/{allocation_id}:revoke",
    status_code=202,
    response_model=RevocationView,
    responses={
        **error_responses(400, 401, 403, 404, 413, 429),
        409: {"description": "The allocation is not completed, or nothing named is left"},
    },
)
async def revoke_allocation(
    allocation_id: UUID,
    body: RevokeRequest,
    response: Response,
    runtime: Runtime,
    principal: HrAdmin,
    idempotency_key: IdempotencyKeyHeader = None,
) -> RevocationView:
    """Void the allocation's vouchers (all, or those of `employee_ids`), with a reason.

    Each employee gets a `herald.voucher.revoked` notification and their managers a
    summary. Vouchers stay on record as void; their codes are never issued again. A
    voucher revoked already is never revoked twice: naming only such vouchers is 409.
    """
    runtime.allocation_limiter.check(principal.subject)
    valid_idempotency_key(idempotency_key)
    try:
        accepted = await runtime.revocations.request(
            allocation_id,
            reason=body.reason,
            employee_ids=body.employee_ids,
            requested_by=principal.subject,
            idempotency_key=idempotency_key,
        )
    except IdempotencyConflict as exc:
        raise idempotency_conflict() from exc
    except AllocationNotFound as exc:
        raise _not_found(allocation_id) from exc
    except NotRevocable as exc:
        raise HTTPException(
            409, {"code": "not_revocable", "message": str(exc), "status": exc.status}
        ) from exc
    except AlreadyRevoked as exc:
        raise HTTPException(409, {"code": "already_revoked", "message": str(exc)}) from exc
    except UnknownRecipients as exc:
        raise unprocessable(
            ["body", "employee_ids"], str(exc), "unknown_recipients", input=exc.employee_ids
        ) from exc
    revocation = RevocationView.from_row(accepted.row)
    answer_accepted(
        response,
        f"/v1/allocations/{allocation_id}/revocations/{revocation.id}",
        replayed=accepted.replayed,
    )
    return revocation


@router.get(
    "/{allocation_id}/revocations",
    response_model=RevocationList,
    responses=error_responses(401, 403, 404),
)
async def list_revocations(
    allocation_id: UUID, runtime: Runtime, principal: HrAdmin
) -> RevocationList:
    """The allocation's revocations, oldest first."""
    if await runtime.allocations.get(allocation_id) is None:
        raise _not_found(allocation_id)
    rows = await runtime.revocations.of_allocation(allocation_id)
    return RevocationList(items=[RevocationView.from_row(r) for r in rows])


@router.get(
    "/{allocation_id}/revocations/{revocation_id}",
    response_model=RevocationView,
    responses=error_responses(401, 403, 404),
)
async def get_revocation(
    allocation_id: UUID, revocation_id: UUID, runtime: Runtime, principal: HrAdmin
) -> RevocationView:
    row = await runtime.revocations.get(allocation_id, revocation_id)
    if row is None:
        raise HTTPException(404, f"revocation {revocation_id} not found")
    return RevocationView.from_row(row)
