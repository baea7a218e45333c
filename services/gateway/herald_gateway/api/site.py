"""The web console's files."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response

from herald_gateway.runtime import get_runtime


async def page(request: Request) -> Response:
    site = get_runtime(request).site
    if not site.built():
        return PlainTextResponse(
            "The web console is not built: run `npm run build` in web/ (make run does).",
            status_code=503,
        )
    found = site.resolve(request.url.path)
    if found is None:
        return PlainTextResponse("not found", status_code=404)
    return FileResponse(found.path, headers={"Cache-Control": found.cache_control})
