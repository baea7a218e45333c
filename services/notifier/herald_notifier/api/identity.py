"""Who opened a stream: a single-use ticket, a Bearer header, or the session cookie.

Each of them says until when, too: the token's `exp` (a ticket keeps the `exp` of the token
it was issued for). The stream ends then (docs/decisions/0008), so a token already past it
opens none, even within the leeway the verifier allows for clock skew: the stream would
end at once.
"""

from __future__ import annotations

import time

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
    else:
        principal = await get_authenticator(request).authenticate(request, allow_cookie=True)
    if principal.expires_at is not None and principal.expires_at <= time.time():
        raise unauthorized("token has expired")
    return principal
