"""POST /v1/channel-auth: Pusher-style authorization for clients built on that model."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel

from herald_common.auth import channel_auth
from herald_common.auth.principal import Principal
from herald_notifier.api.channel_access import channel_named, require_readable
from herald_notifier.api.session import cookie_or_bearer
from herald_notifier.runtime import NotifierRuntime, get_runtime
from herald_web.channel_auth_form import OPENAPI_BODY, auth_fields
from herald_web.errors import error_responses

router = APIRouter(tags=["channels"])


class ChannelAuth(BaseModel):
    auth: str


@router.post(
    "/v1/channel-auth",
    response_model=ChannelAuth,
    responses=error_responses(400, 401, 403, 404, 415),
    openapi_extra=OPENAPI_BODY,
)
async def authorize_channel(
    request: Request,
    runtime: Annotated[NotifierRuntime, Depends(get_runtime)],
    principal: Annotated[Principal, Depends(cookie_or_bearer)],
) -> ChannelAuth:
    """`{"auth": "<key>:<hex HMAC-SHA256(secret, socket_id:channel_name)>"}` or 403."""
    credentials = runtime.settings.channel_auth_credentials()
    if credentials is None:
        raise HTTPException(404, "channel authorization is not enabled here")
    fields = await auth_fields(request)
    socket_id, name = fields["socket_id"], fields["channel_name"]
    require_readable(principal, channel_named(name))
    return ChannelAuth(auth=channel_auth.sign(*credentials, socket_id, name))
