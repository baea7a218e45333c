"""Errors in the same shape FastAPI gives validation failures: a list of {loc, msg, type}."""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException


def unprocessable(loc: list[str | int], msg: str, error_type: str, **extra: Any) -> HTTPException:
    return HTTPException(422, detail=[{"loc": loc, "msg": msg, "type": error_type, **extra}])


def valid_idempotency_key(key: str | None) -> None:
    """Keys are 1-255 printable ASCII characters (as in the IETF draft and Stripe)."""
    if key is not None and not (1 <= len(key) <= 255 and key.isascii() and key.isprintable()):
        raise unprocessable(
            ["header", "Idempotency-Key"], "must be 1-255 printable ASCII characters", "value_error"
        )
