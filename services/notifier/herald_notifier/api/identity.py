"""Who opened a stream: a single-use ticket, a Bearer header, or the session cookie."""

from __future__ import annotations

from fastapi import Request

from herald_common.auth.principal import Principal
from herald_notifier.runtime import NotifierRuntime
from herald_web.auth import get_authenticator, unauthorized


async def authenticate_stream(
    request: Request, runtime: NotifierRuntime, ticket: str | None
) -> Principal:
    if ticket is not None:
        principal = await runtime.tickets.redeem(ticket)
        if principal is None:
            raise unauthorized("ticket is unknown, expired or already used")
        return principal
    return await get_authenticator(request).authenticate(request, allow_cookie=True)
