"""The Idempotency-Key header of the endpoints that accept requests (allocations, pushes).

Its format, its conflict answer, and the headers of an accepted request: the same for
every endpoint, since a key means the same everywhere (docs/decisions/0036).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Header, HTTPException, Response

from herald_allocation.api.errors import unprocessable

IdempotencyKeyHeader = Annotated[str | None, Header(alias="Idempotency-Key")]
LOC: list[str | int] = ["header", "Idempotency-Key"]


def valid_idempotency_key(key: str | None) -> None:
    """Keys are 1-255 printable ASCII characters (as in the IETF draft and Stripe)."""
    if key is not None and not (1 <= len(key) <= 255 and key.isascii() and key.isprintable()):
        raise unprocessable(LOC, "must be 1-255 printable ASCII characters", "value_error")


def idempotency_conflict() -> HTTPException:
    return unprocessable(
        LOC, "this key was already used with a different request body", "idempotency_conflict"
    )


def answer_accepted(response: Response, location: str, *, replayed: bool) -> None:
    """Where the accepted request can be watched, and whether this answer is a replay."""
    response.headers["Location"] = location
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
