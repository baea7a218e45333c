"""/v1/employees: read the employee directory, or load it from CSV (all rows or none)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import JSONResponse

from herald_allocation.api.schemas import EmployeePage, EmployeeView, ImportSummary
from herald_allocation.domain.employee_csv import (
    CsvRejected,
    import_employees,
    list_directory,
    parse_employee_csv,
)
from herald_allocation.runtime import AllocationRuntime, get_runtime

router = APIRouter(tags=["employees"])


@router.post("/v1/employees:import", response_model=ImportSummary)
async def import_employee_csv(
    request: Request, runtime: Annotated[AllocationRuntime, Depends(get_runtime)]
) -> ImportSummary | JSONResponse:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in ("text/csv", "application/csv"):
        raise HTTPException(415, "send the CSV as the body with Content-Type: text/csv")
    limit = runtime.settings.max_import_bytes
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HTTPException(413, f"CSV larger than {limit} bytes; import it in parts")
        chunks.append(chunk)
    try:
        text = b"".join(chunks).decode("utf-8-sig")
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


@router.get("/v1/employees", response_model=EmployeePage)
async def list_employees(
    runtime: Annotated[AllocationRuntime, Depends(get_runtime)],
    department: Annotated[str | None, Query(max_length=64)] = None,
    after: Annotated[
        str | None, Query(max_length=64, description="last id of the previous page")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> EmployeePage:
    rows = await list_directory(runtime.pool, department=department, after=after, limit=limit)
    items = [EmployeeView(**row) for row in rows]
    return EmployeePage(items=items, next_after=items[-1].id if len(items) == limit else None)
