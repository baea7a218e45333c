"""/v1/allocations: request an allocation, preview its reach, read progress, list past ones.

All of it is for the `hr-admin` role.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, HTTPException, Query, Response
from fastapi.responses import StreamingResponse

from herald_allocation.api.dependencies import HrAdmin, Runtime
from herald_allocation.api.errors import unprocessable
from herald_allocation.api.idempotency import (
    IdempotencyKeyHeader,
    answer_accepted,
    idempotency_conflict,
    valid_idempotency_key,
)
from herald_allocation.api.schemas import (
    AllocationCreate,
    AllocationPage,
    AllocationStatus,
    AllocationView,
    AuditEntry,
    AuditTrail,
    CancelRequest,
    Cost,
    DepartmentCount,
    MatchPreview,
    PreviewRequest,
    Recipient,
    RecipientsChangedBody,
    RecipientsRequest,
    RejectRequest,
)
from herald_allocation.domain.accepting import IdempotencyConflict
from herald_allocation.domain.allocations import (
    ConfirmationRequired,
    InvalidCursor,
    NoRecipients,
    RecipientsChanged,
    UnknownDepartments,
)
from herald_allocation.domain.lifecycle import NotAllowed, NotFound, OwnAllocation
from herald_allocation.runtime import AllocationRuntime
from herald_common import audit
from herald_web.errors import error_responses

router = APIRouter(prefix="/v1/allocations", tags=["allocations"])

DEPARTMENTS_LOC: list[str | int] = ["body", "criteria", "departments"]


def view(runtime: AllocationRuntime, row: dict[str, Any]) -> AllocationView:
    return AllocationView.from_row(
        row, now=datetime.now(UTC), worker_wait_seconds=runtime.settings.worker_wait_seconds
    )


def unknown_departments(exc: UnknownDepartments) -> HTTPException:
    return unprocessable(DEPARTMENTS_LOC, str(exc), "unknown_department", input=exc.departments)


@router.post(
    "",
    status_code=202,
    response_model=AllocationView,
    responses={
        **error_responses(400, 401, 403, 413, 429),
        409: {"model": RecipientsChangedBody, "description": "The match changed since review"},
    },
)
async def create_allocation(
    body: AllocationCreate,
    response: Response,
    runtime: Runtime,
    principal: HrAdmin,
    idempotency_key: IdempotencyKeyHeader = None,
) -> AllocationView:
    """Allocate a voucher to every employee matching the criteria (asynchronously).

    Over the approval rule (recipients or total per currency) it waits as
    `pending_approval` for a second hr-admin; with `send_at` in the future it waits as
    `scheduled` and the rule is evaluated at that time. The rule must name its audience
    (`all_employees: true` for everyone) and match somebody
    today. Everyone, or more than the typed-confirmation threshold, also needs
    `confirmed_recipients`, the count the admin reviewed. The Idempotency-Key is the
    caller's: the same key with the same body answers the first allocation again.
    """
    runtime.allocation_limiter.check(principal.subject)
    valid_idempotency_key(idempotency_key)
    try:
        accepted = await runtime.allocations.request(
            body.voucher,
            body.criteria,
            requested_by=principal.subject,
            idempotency_key=idempotency_key,
            confirmed_recipients=body.confirmed_recipients,
            send_at=body.send_at,
        )
    except IdempotencyConflict as exc:
        raise idempotency_conflict() from exc
    except UnknownDepartments as exc:
        raise unknown_departments(exc) from exc
    except NoRecipients as exc:
        raise unprocessable(["body", "criteria"], str(exc), "no_recipients") from exc
    except ConfirmationRequired as exc:
        raise unprocessable(
            ["body", "confirmed_recipients"], str(exc), "confirmation_required", matched=exc.matched
        ) from exc
    except RecipientsChanged as exc:
        raise HTTPException(
            409, {"code": "recipients_changed", "message": str(exc), "matched": exc.matched}
        ) from exc
    allocation = view(runtime, accepted.row)
    answer_accepted(response, f"/v1/allocations/{allocation.id}", replayed=accepted.replayed)
    runtime.metrics.allocations_requested.labels("replayed" if accepted.replayed else "new").inc()
    return allocation


@router.post(":preview", response_model=MatchPreview, responses=error_responses(400, 401, 403, 413))
async def preview_allocation(
    body: PreviewRequest, runtime: Runtime, principal: HrAdmin
) -> MatchPreview:
    """Whom the criteria reach today: the count, per department, the cost and a sample.

    Writes nothing. With `send_at`, these are today's numbers: the rule is evaluated again
    when the allocation is sent (`recounted_at`). `confirmation: typed` means sending
    needs `confirmed_recipients`.
    """
    try:
        preview = await runtime.allocations.preview(body.criteria, body.voucher, date.today())
    except UnknownDepartments as exc:
        raise unknown_departments(exc) from exc
    return MatchPreview(
        matched=preview.matched,
        by_department=[DepartmentCount(department=d, count=n) for d, n in preview.by_department],
        total_cost=[Cost(currency=c, amount=a) for c, a in preview.total_cost],
        sample=[Recipient(employee_id=i, name=n, department=d) for i, n, d in preview.sample],
        confirmation="typed" if preview.typed_confirmation else "review",
        typed_confirmation_above=runtime.allocations.typed_confirmation_above,
        approval_required=preview.approval is not None,
        approval_reason=preview.approval,
        recounted_at=body.send_at,
    )


@router.post(
    ":recipients",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"text/csv": {}}, "description": "Every recipient, one row each"},
        **error_responses(400, 401, 403, 413),
    },
)
async def recipients_csv(
    body: RecipientsRequest, runtime: Runtime, principal: HrAdmin
) -> StreamingResponse:
    """Every employee the criteria reach today as CSV, streamed (for the review)."""
    try:
        await runtime.allocations.check_departments(body.criteria)
    except UnknownDepartments as exc:
        raise unknown_departments(exc) from exc
    return StreamingResponse(
        runtime.allocations.recipients_csv(body.criteria, date.today()),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="recipients.csv"'},
    )


@router.get(
    "/{allocation_id}", response_model=AllocationView, responses=error_responses(401, 403, 404)
)
async def get_allocation(
    allocation_id: UUID, runtime: Runtime, principal: HrAdmin
) -> AllocationView:
    row = await runtime.allocations.get(allocation_id)
    if row is None:
        raise HTTPException(404, f"allocation {allocation_id} not found")
    return view(runtime, row)


@router.get("", response_model=AllocationPage, responses=error_responses(400, 401, 403))
async def list_allocations(
    runtime: Runtime,
    principal: HrAdmin,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    status: AllocationStatus | None = None,
) -> AllocationPage:
    """Newest first (`status=pending_approval`: those waiting for approval). Pass
    `next_cursor` back as `cursor` for the next page."""
    try:
        rows, next_cursor = await runtime.allocations.page(limit, cursor, status)
    except InvalidCursor as exc:
        raise HTTPException(400, str(exc)) from exc
    return AllocationPage(items=[view(runtime, r) for r in rows], next_cursor=next_cursor)


def _lifecycle_error(exc: Exception) -> HTTPException:
    if isinstance(exc, NotFound):
        return HTTPException(404, str(exc))
    if isinstance(exc, OwnAllocation):
        return HTTPException(403, {"code": "own_allocation", "message": str(exc)})
    assert isinstance(exc, NotAllowed)
    return HTTPException(409, {"code": exc.code, "message": str(exc)})


async def _current(runtime: AllocationRuntime, allocation_id: UUID) -> AllocationView:
    row = await runtime.allocations.get(allocation_id)
    assert row is not None  # allocations are never deleted
    return view(runtime, row)


STEP_ERRORS = error_responses(400, 401, 403, 404, 409, 413)


@router.post("/{allocation_id}:approve", response_model=AllocationView, responses=STEP_ERRORS)
async def approve_allocation(
    allocation_id: UUID, runtime: Runtime, principal: HrAdmin
) -> AllocationView:
    """A second hr-admin approves an allocation pending approval: it is sent now, or at
    its `send_at`. The requester cannot approve their own (403); approving one that is not
    pending (approved before, rejected, expired, cancelled) answers 409."""
    try:
        await runtime.lifecycle.approve(allocation_id, principal.subject)
    except (NotFound, NotAllowed, OwnAllocation) as exc:
        raise _lifecycle_error(exc) from exc
    return await _current(runtime, allocation_id)


@router.post("/{allocation_id}:reject", response_model=AllocationView, responses=STEP_ERRORS)
async def reject_allocation(
    allocation_id: UUID, body: RejectRequest, runtime: Runtime, principal: HrAdmin
) -> AllocationView:
    """A second hr-admin rejects an allocation pending approval, with a reason: nothing is
    written and nobody is told."""
    try:
        await runtime.lifecycle.reject(allocation_id, principal.subject, body.reason)
    except (NotFound, NotAllowed, OwnAllocation) as exc:
        raise _lifecycle_error(exc) from exc
    return await _current(runtime, allocation_id)


@router.post("/{allocation_id}:cancel", response_model=AllocationView, responses=STEP_ERRORS)
async def cancel_allocation(
    allocation_id: UUID, runtime: Runtime, principal: HrAdmin, body: CancelRequest | None = None
) -> AllocationView:
    """Cancels an allocation that is pending approval or scheduled: nobody is told. Once
    it has been sent to the inserter this answers 409: revoke it once completed."""
    try:
        await runtime.lifecycle.cancel(
            allocation_id, principal.subject, body.reason if body else None
        )
    except (NotFound, NotAllowed, OwnAllocation) as exc:
        raise _lifecycle_error(exc) from exc
    return await _current(runtime, allocation_id)


async def _history(runtime: AllocationRuntime, allocation_id: UUID) -> list[audit.AuditRecord]:
    if await runtime.allocations.get(allocation_id) is None:
        raise HTTPException(404, f"allocation {allocation_id} not found")
    return await runtime.lifecycle.history(allocation_id)


@router.get(
    "/{allocation_id}/history", response_model=AuditTrail, responses=error_responses(401, 403, 404)
)
async def allocation_history(
    allocation_id: UUID, runtime: Runtime, principal: HrAdmin
) -> AuditTrail:
    """Every step of the allocation, oldest first: who did what, and when."""
    records = await _history(runtime, allocation_id)
    return AuditTrail(
        allocation_id=allocation_id,
        items=[
            AuditEntry(
                seq=r.seq,
                step=r.step,
                actor=r.actor,
                recorded_at=r.recorded_at,
                detail=json.loads(r.detail),
                hash=r.hash,
            )
            for r in records
        ],
    )


@router.get(
    "/{allocation_id}/history.csv",
    response_class=Response,
    responses={
        200: {"content": {"text/csv": {}}, "description": "The audit trail, one step a row"},
        **error_responses(401, 403, 404),
    },
)
async def allocation_history_csv(
    allocation_id: UUID, runtime: Runtime, principal: HrAdmin
) -> Response:
    """The audit trail as CSV (with each record's hash and its predecessor's)."""
    records = await _history(runtime, allocation_id)
    out = io.StringIO()
    writer = csv.DictWriter(
        out,
        fieldnames=["seq", "step", "actor", "recorded_at", "detail", "prev_hash", "hash"],
        lineterminator="\r\n",
    )
    writer.writeheader()
    for record in records:
        writer.writerow(audit.as_mapping(record))
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="allocation-{allocation_id}-history.csv"'
        },
    )
