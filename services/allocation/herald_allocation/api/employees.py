"""/v1/employees: read the employee directory, or load it from CSV (all rows or none)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import JSONResponse

from herald_allocation.api.schemas import (
    CsvRejectedBody,
    Department,
    DepartmentList,
    EmployeePage,
    EmployeeView,
    ImportSummary,
)
from herald_allocation.domain.employee_csv import (
    CsvRejected,
    department_sizes,
    import_employees,
    list_directory,
    parse_employee_csv,
)
from herald_allocation.runtime import AllocationRuntime, get_runtime
from herald_common.auth.principal import HR_ADMIN, MANAGER, Principal
from herald_web.auth import requires
from herald_web.errors import error_responses

router = APIRouter(tags=["employees"])


@router.post(
    "/v1/employees:import",
    response_model=ImportSummary,
    responses={
        **error_responses(400, 401, 403, 413, 415),
        422: {"model": CsvRejectedBody, "description": "Invalid rows; nothing was imported"},
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"text/csv": {"schema": {"type": "string"}}},
        }
    },
)
async def import_employee_csv(
    request: Request,
    runtime: Annotated[AllocationRuntime, Depends(get_runtime)],
    principal: Annotated[Principal, Depends(requires(HR_ADMIN))],
) -> ImportSummary | JSONResponse:
    """Load employees from CSV (employee_id,name,email,department,grade,hired_on): all or none."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in ("text/csv", "application/csv"):
        raise HTTPException(415, "send the CSV as the body with Content-Type: text/csv")
    # The body size limit (max_import_bytes for this path) is enforced by middleware.
    try:
        text = (await request.body()).decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise HTTPException(400, f"CSV is not UTF-8: {exc}") from exc
    try:
        rows = parse_employee_csv(text)
        async with runtime.pool.connection() as conn:
            result = await import_employees(conn, rows)
    except CsvRejected as exc:
        return JSONResponse(
            status_code=422,
            content={
                "detail": "no rows were imported: the CSV has invalid rows",
                "error_count": exc.total_errors,
                "errors": [
                    {"line": e.line, "field": e.field, "message": e.message} for e in exc.errors
                ],
            },
        )
    runtime.metrics.employees_imported.inc(len(rows))
    return ImportSummary(inserted=result.inserted, updated=result.updated)


@router.get("/v1/employees", response_model=EmployeePage, responses=error_responses(401, 403))
async def list_employees(
    runtime: Annotated[AllocationRuntime, Depends(get_runtime)],
    principal: Annotated[Principal, Depends(requires(HR_ADMIN, MANAGER))],
    department: Annotated[str | None, Query(max_length=64, pattern=r"^[^\x00]+$")] = None,
    after: Annotated[
        str | None,
        Query(pattern=r"^[A-Za-z0-9_.-]{1,64}$", description="last id of the previous page"),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> EmployeePage:
    """The directory in id order. Managers see only the department they manage."""
    if not principal.has(HR_ADMIN):
        if department is not None and department != principal.manages:
            raise HTTPException(403, "managers may list only the department they manage")
        department = principal.manages
    rows = await list_directory(runtime.pool, department=department, after=after, limit=limit)
    items = [EmployeeView(**row) for row in rows]
    return EmployeePage(items=items, next_after=items[-1].id if len(items) == limit else None)


@router.get("/v1/departments", response_model=DepartmentList, responses=error_responses(401, 403))
async def list_departments(
    runtime: Annotated[AllocationRuntime, Depends(get_runtime)],
    principal: Annotated[Principal, Depends(requires(HR_ADMIN))],
) -> DepartmentList:
    """Every department with its headcount, for building allocation criteria."""
    sizes = await department_sizes(runtime.pool)
    return DepartmentList(items=[Department(name=n, employees=c) for n, c in sizes])
