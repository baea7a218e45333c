"""Errors in the same shape FastAPI gives validation failures: a list of {loc, msg, type}."""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException


def unprocessable(loc: list[str | int], msg: str, error_type: str, **extra: Any) -> HTTPException:
    return HTTPException(422, detail=[{"loc": loc, "msg": msg, "type": error_type, **extra}])
