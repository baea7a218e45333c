"""POST /v1/channel-auth: Pusher-style authorization for clients built on that model."""

from __future__ import annotations

import json
from typing import Annotated
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel

from herald_common.auth import channel_auth
from herald_common.auth.principal import Principal
from herald_notifier.api.channel_access import channel_named, require_readable
from herald_notifier.api.session import cookie_or_bearer
from herald_notifier.runtime import NotifierRuntime, get_runtime
from herald_web.errors import error_responses

router = APIRouter(tags=["channels"])


class ChannelAuth(BaseModel):
    auth: str


# The request's two fields, sent as a form (as Pusher clients do) or as JSON.
_FIELDS = {
    "type": "object",
    "properties": {"socket_id": {"type": "string"}, "channel_name": {"type": "string"}},
    "required": ["socket_id", "channel_name"],
}


async def _fields(request: Request) -> tuple[str, str]:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    raw = await request.body()
    try:
        if content_type == "application/json":
            body = json.loads(raw)
            if not isinstance(body, dict):
                raise ValueError("expected an object")
            socket_id, channel = body.get("socket_id"), body.get("channel_name")
        elif content_type == "application/x-www-form-urlencoded":
            form = parse_qs(raw.decode(), strict_parsing=False)
            socket_id = form.get("socket_id", [None])[0]
            channel = form.get("channel_name", [None])[0]
        else:
            raise HTTPException(415, "send JSON or a form with socket_id and channel_name")
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise HTTPException(400, "request body is not valid JSON or form data") from exc
    if not isinstance(socket_id, str) or not channel_auth.SOCKET_ID_PATTERN.fullmatch(socket_id):
        raise HTTPException(400, "socket_id must be 1-128 of A-Z a-z 0-9 _ . -")
    if not isinstance(channel, str):
        raise HTTPException(400, "channel_name is required")
    return socket_id, channel


@router.post(
    "/v1/channel-auth",
    response_model=ChannelAuth,
    responses=error_responses(400, 401, 403, 404, 415),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/x-www-form-urlencoded": {"schema": _FIELDS},
                "application/json": {"schema": _FIELDS},
            },
        }
    },
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
    socket_id, name = await _fields(request)
    require_readable(principal, channel_named(name))
    return ChannelAuth(auth=channel_auth.sign(*credentials, socket_id, name))
