"""`GET /v1/stream` (and `POST /v1/stream-tickets`) outside the middleware stack.

Every open stream keeps its whole call stack alive for hours: through FastAPI's and
Starlette's middleware that is a dozen coroutine frames per connection, most of the memory
an idle stream costs. Streams are GETs without a body and need none of that middleware,
except CORS: a cross-origin request (with an Origin header, where CORS is configured)
takes the full stack instead. Both paths run `open_stream`, so every check is the same.
For the same reason the fast path sits in front of uvicorn's proxy-headers middleware
(`others` carries it for every other request): streams do not use the client address.

A ticket is the first half of a browser's stream open, so it takes the same path: the
stack's dozen layers cost a ticket about 0.5 ms of CPU, as much again as the rest of the
open (docs/decisions/0076). It reads no body (a ticket request has none to read).
"""

from __future__ import annotations

from fastapi import FastAPI, HTTPException
from fastapi.responses import JSONResponse
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from herald_notifier.api.session import ticket_for
from herald_notifier.api.stream import open_stream
from herald_notifier.runtime import NotifierRuntime

STREAM_PATH = "/v1/stream"
TICKETS_PATH = "/v1/stream-tickets"
_TAKEN = {(STREAM_PATH, "GET"), (TICKETS_PATH, "POST")}


class StreamFastPath:
    def __init__(self, app: FastAPI, *, cors: bool, others: ASGIApp | None = None) -> None:
        self.app = app
        self._cors = cors
        # What serves every other request (the app, or the app behind more middleware).
        self.others: ASGIApp = others or app

    def _takes(self, scope: Scope) -> bool:
        if scope["type"] != "http" or (scope["path"], scope["method"]) not in _TAKEN:
            return False
        return not (self._cors and any(name == b"origin" for name, _ in scope["headers"]))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self._takes(scope):
            await self.others(scope, receive, send)
            return
        scope["app"] = self.app  # what request.app means to the shared helpers
        request = Request(scope, receive)
        runtime: NotifierRuntime = self.app.state.runtime
        if scope["method"] == "POST":
            await self._ticket(request, runtime, receive, send)
            return
        try:
            response = await open_stream(request, runtime)
        except HTTPException as exc:
            error = JSONResponse({"detail": exc.detail}, exc.status_code, headers=exc.headers)
            await error(scope, receive, send)
            return
        del request  # nothing of the handshake stays referenced while the stream lives
        await response(scope, receive, send)

    async def _ticket(
        self, request: Request, runtime: NotifierRuntime, receive: Receive, send: Send
    ) -> None:
        try:
            answer = JSONResponse((await ticket_for(request, runtime)).model_dump(), 201)
        except HTTPException as exc:
            answer = JSONResponse({"detail": exc.detail}, exc.status_code, headers=exc.headers)
        await answer(request.scope, receive, send)
