"""Browser credentials for streams: the HttpOnly session cookie and single-use tickets."""

from __future__ import annotations

import time
from typing import Annotated, Literal, TypedDict

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel

from herald_common.auth.principal import Principal
from herald_common.auth.settings import AuthSettings
from herald_notifier.runtime import NotifierRuntime, get_runtime
from herald_web.auth import authenticated, get_authenticator
from herald_web.errors import error_responses

router = APIRouter(tags=["session"])


class _CookieAttributes(TypedDict):
    path: str
    httponly: bool
    secure: bool
    samesite: Literal["strict"]


class StreamTicket(BaseModel):
    ticket: str
    expires_in: int


class Session(BaseModel):
    subject: str
    expires_in: int


async def cookie_or_bearer(request: Request) -> Principal:
    return await get_authenticator(request).authenticate(request, allow_cookie=True)


async def ticket_for(request: Request, runtime: NotifierRuntime) -> StreamTicket:
    """Authenticate the caller and issue their ticket: what the route and the fast path
    (see `fast_path`) both run."""
    principal = await cookie_or_bearer(request)
    ticket = await runtime.tickets.issue(principal)
    return StreamTicket(ticket=ticket, expires_in=runtime.tickets.ttl_seconds)


@router.post(
    "/v1/stream-tickets",
    status_code=201,
    response_model=StreamTicket,
    responses=error_responses(401, 403),
)
async def issue_ticket(
    request: Request, runtime: Annotated[NotifierRuntime, Depends(get_runtime)]
) -> StreamTicket:
    """A ticket for one `GET /v1/stream?ticket=...`, valid for a few seconds, usable once.

    (Usually served by the fast path; same checks.)"""
    return await ticket_for(request, runtime)


@router.post("/v1/session", response_model=Session, responses=error_responses(401))
async def open_session(
    request: Request,
    response: Response,
    principal: Annotated[Principal, Depends(authenticated)],
) -> Session:
    """Trade a Bearer token for an HttpOnly, Secure, SameSite=Strict cookie for streams."""
    settings = get_authenticator(request).settings
    token = get_authenticator(request).bearer(request)
    assert token is not None  # `authenticated` accepted a Bearer header
    lifetime = max(0, (principal.expires_at or int(time.time())) - int(time.time()))
    response.set_cookie(settings.session_cookie, token, max_age=lifetime, **_cookie(settings))
    return Session(subject=principal.subject, expires_in=lifetime)


@router.delete("/v1/session", status_code=204)
async def close_session(request: Request) -> Response:
    settings = get_authenticator(request).settings
    response = Response(status_code=204)
    response.delete_cookie(settings.session_cookie, **_cookie(settings))
    return response


def _cookie(settings: AuthSettings) -> _CookieAttributes:
    """The session cookie's attributes: the same when it is set and when it is deleted (a
    deletion for another path would leave the cookie in place)."""
    return {
        "path": "/v1",
        "httponly": True,
        "secure": settings.session_cookie_secure,
        "samesite": "strict",
    }
