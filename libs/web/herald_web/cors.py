"""CORS for configured origins only: an Origin is echoed only when it is on the list."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware


def allow_origins(app: FastAPI, origins: list[str]) -> None:
    if not origins:
        return  # same-origin only: no CORS headers at all
    if "*" in origins:
        raise ValueError("a wildcard origin cannot be combined with credentials; list origins")
    app.add_middleware(
        CORSMiddleware,
        allow_origins=origins,
        allow_credentials=True,
        allow_methods=["GET", "POST", "PUT", "DELETE"],
        allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "Last-Event-ID"],
        max_age=600,
    )
