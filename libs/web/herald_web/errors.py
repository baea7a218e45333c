"""Error bodies as the OpenAPI documents describe them."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

_DESCRIPTIONS = {
    400: "Malformed request",
    401: "Missing, invalid or expired credentials",
    403: "Authenticated, but not allowed to do this",
    404: "Not found (also for objects that belong to someone else)",
    409: "Conflicts with the current state",
    413: "Request body too large",
    415: "Unsupported content type",
    421: "Misdirected: this process does not read the stream's departments",
    429: "Rate limit exceeded; see Retry-After",
    503: "A dependency is unavailable; retry later",
}


class ErrorBody(BaseModel):
    detail: str


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` entries for FastAPI routes, one per status code the route can answer."""
    return {code: {"model": ErrorBody, "description": _DESCRIPTIONS[code]} for code in codes}
