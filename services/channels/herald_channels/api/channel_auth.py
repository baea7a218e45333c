"""POST /v1/channel-auth and /v1/user-auth: Pusher authorization for Herald's people.

The caller is an employee (Bearer token, or the console's session cookie). Herald's
channels follow the SSE stream's rules (herald_common.auth.channels); a presence channel
admits any employee, as a member named by their employee id; other private channels are
the app's own and answered 403 here (an app signs those with its secret itself).
A `last_id` parameter (pusher-js `channelAuthorization.params`, the Flutter `onAuthorizer`)
is the replay cursor: it comes back in the signed channel_data (docs/decisions/0057).
"""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel

from herald_channels.domain import protocol
from herald_channels.runtime import ChannelsRuntime, get_runtime
from herald_common.auth import channel_auth
from herald_common.auth.channels import InvalidChannel, can_read, parse_channel
from herald_common.auth.principal import Principal
from herald_web.auth import get_authenticator
from herald_web.channel_auth_form import OPENAPI_BODY, auth_fields
from herald_web.errors import error_responses

router = APIRouter(tags=["channels"])


class ChannelAuth(BaseModel):
    auth: str
    channel_data: str | None = None


class UserAuth(BaseModel):
    auth: str
    user_data: str


async def cookie_or_bearer(request: Request) -> Principal:
    return await get_authenticator(request).authenticate(request, allow_cookie=True)


Caller = Annotated[Principal, Depends(cookie_or_bearer)]
Runtime = Annotated[ChannelsRuntime, Depends(get_runtime)]


def _credentials(runtime: ChannelsRuntime) -> tuple[str, str]:
    credentials = runtime.settings.credentials()
    if credentials is None:
        raise HTTPException(503, "no app secret is configured (HERALD_CHANNELS_APP_SECRET)")
    return credentials


def _employee(principal: Principal) -> str:
    if principal.employee_id is None:
        raise HTTPException(403, "only employees hold Pusher channels")
    return principal.employee_id


@router.post(
    "/v1/channel-auth",
    response_model=ChannelAuth,
    response_model_exclude_none=True,
    responses=error_responses(400, 401, 403, 415, 503),
    openapi_extra=OPENAPI_BODY,
)
async def authorize_channel(request: Request, runtime: Runtime, principal: Caller) -> ChannelAuth:
    """`{"auth": "<key>:<signature>"}`, with `channel_data` for presence (and a cursor)."""
    key, secret = _credentials(runtime)
    fields = await auth_fields(request)
    socket_id, name = fields["socket_id"], fields["channel_name"]
    employee_id = _employee(principal)
    channel_data: str | None = None
    if protocol.is_presence(name):
        channel_data = json.dumps({"user_id": employee_id, "user_info": {"id": employee_id}})
    else:
        try:
            channel = parse_channel(name)
        except InvalidChannel as exc:
            raise HTTPException(403, f"Herald authorizes its own channels only: {exc}") from exc
        if not can_read(principal, channel):
            raise HTTPException(403, f"not allowed to read {channel.name}")
        last_id = fields.get("last_id")
        if last_id is not None:
            if not last_id.isdigit() or len(last_id) > 19:
                raise HTTPException(400, "last_id must be a notification id (digits)")
            channel_data = json.dumps({"last_id": int(last_id)})
    return ChannelAuth(
        auth=channel_auth.sign(key, secret, socket_id, name, channel_data),
        channel_data=channel_data,
    )


@router.post(
    "/v1/user-auth",
    response_model=UserAuth,
    responses=error_responses(400, 401, 403, 415, 503),
    openapi_extra=OPENAPI_BODY,
)
async def authenticate_user(request: Request, runtime: Runtime, principal: Caller) -> UserAuth:
    """pusher:signin's `{"auth", "user_data"}`: signs `socket_id::user::user_data`."""
    key, secret = _credentials(runtime)
    socket_id = (await auth_fields(request, channel=False))["socket_id"]
    user_data = json.dumps({"id": _employee(principal)})
    return UserAuth(
        auth=channel_auth.sign_user(key, secret, socket_id, user_data), user_data=user_data
    )
