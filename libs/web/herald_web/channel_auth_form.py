"""The body of a Pusher-style authorization request, as pusher-js, Laravel Echo and the
Flutter plugin post it: a form (their default) or JSON, with `socket_id`, `channel_name`
and whatever parameters the app adds (pusher-js `channelAuthorization.params`)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs

from fastapi import HTTPException, Request

from herald_common.auth import channel_auth

# The request's two fields, sent as a form (as Pusher clients do) or as JSON.
FIELDS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "socket_id": {"type": "string"},
        "channel_name": {"type": "string"},
        "last_id": {"type": "string", "description": "the last notification id the app holds"},
    },
    "required": ["socket_id", "channel_name"],
}

OPENAPI_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/x-www-form-urlencoded": {"schema": FIELDS_SCHEMA},
            "application/json": {"schema": FIELDS_SCHEMA},
        },
    }
}


async def auth_fields(request: Request, *, channel: bool = True) -> dict[str, str]:
    """Every string field of the body; 400/415 naming what is wrong.

    `socket_id` is checked to be a socket id and, with `channel`, `channel_name` to be
    there (a user authentication request has none).
    """
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    raw = await request.body()
    fields: dict[str, str] = {}
    try:
        if content_type == "application/json":
            body = json.loads(raw)
            if not isinstance(body, dict):
                raise ValueError("expected an object")
            fields = {k: v for k, v in body.items() if isinstance(v, str)}
            # A JSON client may send a number for an app's own parameter (last_id: 42).
            fields.update({k: str(v) for k, v in body.items() if type(v) is int})
        elif content_type == "application/x-www-form-urlencoded":
            form = parse_qs(raw.decode(), strict_parsing=False)
            fields = {k: v[0] for k, v in form.items()}
        else:
            raise HTTPException(415, "send JSON or a form with socket_id and channel_name")
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise HTTPException(400, "request body is not valid JSON or form data") from exc
    socket_id = fields.get("socket_id")
    if socket_id is None or not channel_auth.SOCKET_ID_PATTERN.fullmatch(socket_id):
        raise HTTPException(400, "socket_id must be 1-128 of A-Z a-z 0-9 _ . -")
    if channel and "channel_name" not in fields:
        raise HTTPException(400, "channel_name is required")
    return fields
