"""Request authentication for FastAPI routes.

APIs take `Authorization: Bearer <jwt>`. Streams may also use the HttpOnly session cookie,
because EventSource cannot send headers; a token is never read from a URL. While RS256
keys cannot be fetched from the identity provider, callers get 503 with Retry-After.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request

from herald_common.auth.jwks import KeysUnavailable
from herald_common.auth.principal import Principal
from herald_common.auth.settings import AuthSettings
from herald_common.auth.tokens import TokenError, TokenVerifier


class Authenticator:
    """Built in the lifespan and kept on `app.state.authenticator`."""

    def __init__(self, settings: AuthSettings) -> None:
        self.settings = settings
        self.verifier = TokenVerifier(settings)

    def bearer(self, request: Request) -> str | None:
        header = request.headers.get("authorization")
        if header is None:
            return None
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise unauthorized("use Authorization: Bearer <token>")
        return token.strip()

    async def authenticate(self, request: Request, *, allow_cookie: bool = False) -> Principal:
        token = self.bearer(request)
        if token is None and allow_cookie:
            token = request.cookies.get(self.settings.session_cookie)
        if token is None:
            raise unauthorized("authentication required")
        try:
            return await self.verifier.verify(token)
        except TokenError as exc:
            raise unauthorized(str(exc)) from exc
        except KeysUnavailable as exc:
            # Not the caller's fault, and it passes: the same token may well work later.
            raise HTTPException(
                503, detail=str(exc), headers={"Retry-After": str(exc.retry_after)}
            ) from exc


def unauthorized(reason: str) -> HTTPException:
    # The reason describes the failure, never the token itself.
    return HTTPException(
        401,
        detail=reason,
        headers={"WWW-Authenticate": f'Bearer error="invalid_token", error_description="{reason}"'},
    )


def forbidden(reason: str) -> HTTPException:
    return HTTPException(403, detail=reason)


def get_authenticator(request: Request) -> Authenticator:
    authenticator: Authenticator = request.app.state.authenticator
    return authenticator


async def authenticated(request: Request) -> Principal:
    return await get_authenticator(request).authenticate(request)


def requires(*roles: str) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency admitting callers holding any of `roles`."""

    async def dependency(principal: Annotated[Principal, Depends(authenticated)]) -> Principal:
        if not principal.has(*roles):
            raise forbidden(f"requires one of the roles: {', '.join(roles)}")
        return principal

    return dependency
