"""The caller's own inbox. Another employee's notification answers 404, never 403."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query

from herald_allocation.api.schemas import InboxItem, InboxPage, ReadAllResult, UnreadCount
from herald_allocation.domain.inbox import Change
from herald_allocation.runtime import AllocationRuntime, get_runtime
from herald_common.auth.principal import EMPLOYEE, HR_ADMIN, MANAGER, Principal
from herald_web.auth import requires
from herald_web.errors import error_responses

router = APIRouter(prefix="/v1/notifications", tags=["inbox"])

Runtime = Annotated[AllocationRuntime, Depends(get_runtime)]
Employee = Annotated[Principal, Depends(requires(EMPLOYEE, MANAGER, HR_ADMIN))]


def _me(principal: Principal) -> str:
    employee_id = principal.employee_id
    assert employee_id is not None  # guaranteed by the roles admitted above
    return employee_id


@router.get("", response_model=InboxPage, responses=error_responses(400, 401, 403))
async def list_notifications(
    runtime: Runtime,
    principal: Employee,
    cursor: Annotated[str | None, Query(max_length=20, pattern=r"^[0-9]+$")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    status: Annotated[Literal["read", "unread"] | None, Query()] = None,
    kind: Annotated[str | None, Query(pattern=r"^[a-z0-9.-]{1,100}$")] = None,
    archived: Annotated[bool, Query()] = False,
) -> InboxPage:
    """Newest first. Pass `next_cursor` back as `cursor` for the next page.

    Archived items are left out; `archived=true` lists only them.
    """
    before = int(cursor) if cursor else None
    if before is not None and before > 2**63 - 1:
        raise HTTPException(400, "cursor is not one this API returned")
    rows = await runtime.inbox.page(
        _me(principal), before=before, limit=limit, read=status, kind=kind, archived=archived
    )
    items = [InboxItem.from_row(r) for r in rows]
    return InboxPage(items=items, next_cursor=str(items[-1].id) if len(items) == limit else None)


@router.get("/unread-count", response_model=UnreadCount, responses=error_responses(401, 403))
async def unread_count(runtime: Runtime, principal: Employee) -> UnreadCount:
    return UnreadCount(unread=await runtime.inbox.unread_count(_me(principal)))


@router.post(
    "/{notification_id}/{change}",
    response_model=UnreadCount,
    responses=error_responses(401, 403, 404),
)
async def change_one(
    notification_id: Annotated[int, Path(ge=1, le=2**63 - 1)],
    change: Annotated[Change, Path(description="What to do with the notification")],
    runtime: Runtime,
    principal: Employee,
) -> UnreadCount:
    """Mark one notification `read` or `unread`, `archive` it (out of the listing and the
    unread count) or `unarchive` it (back as it was). Doing it again is fine. Answers the
    new unread count; the employee's streams hear `notification-state`."""
    if not await runtime.inbox.change(_me(principal), notification_id, change):
        raise HTTPException(404, f"notification {notification_id} not found")
    return UnreadCount(unread=await runtime.inbox.unread_count(_me(principal)))


@router.post("/read-all", response_model=ReadAllResult, responses=error_responses(401, 403))
async def mark_all_read(runtime: Runtime, principal: Employee) -> ReadAllResult:
    return ReadAllResult(marked=await runtime.inbox.mark_all_read(_me(principal)))
