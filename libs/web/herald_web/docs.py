"""The OpenAPI page, served whole by the service itself: `/docs` works with no network.

FastAPI's own page loads Swagger UI from a CDN and starts it with an inline script, so it
is blank offline and a strict Content-Security-Policy (the gateway's) blocks it. Here the
page names only files of this origin: Swagger UI's, shipped by the swagger-ui-py package,
and a small start-up script of ours, all under `/docs/assets/`.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Final

import swagger_ui
from fastapi import FastAPI, HTTPException
from fastapi.responses import FileResponse, HTMLResponse

DOCS_PATH: Final = "/docs"
ASSETS_PATH: Final = "/docs/assets"
_SWAGGER_UI: Final = Path(swagger_ui.__file__).parent / "static"
_OURS: Final = Path(__file__).parent / "docs_assets"
# The files the page uses, and where each lives; nothing else is served from there.
_ASSETS: Final = {
    "swagger-ui-bundle.js": _SWAGGER_UI / "swagger-ui-bundle.js",
    "swagger-ui.css": _SWAGGER_UI / "swagger-ui.css",
    "favicon-32x32.png": _SWAGGER_UI / "favicon-32x32.png",
    "init.js": _OURS / "init.js",
}


def docs_page(title: str, openapi_url: str) -> str:
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<link rel="icon" type="image/png" href="{ASSETS_PATH}/favicon-32x32.png">
<link rel="stylesheet" href="{ASSETS_PATH}/swagger-ui.css">
</head>
<body>
<main id="swagger-ui" data-openapi-url="{html.escape(openapi_url)}"></main>
<script src="{ASSETS_PATH}/swagger-ui-bundle.js"></script>
<script src="{ASSETS_PATH}/init.js"></script>
</body>
</html>
"""


def serve_docs(app: FastAPI) -> None:
    """Add `/docs` and its assets to an app built with `docs_url=None, redoc_url=None`."""
    page = docs_page(f"{app.title} - API", app.openapi_url or "/openapi.json")

    @app.get(DOCS_PATH, include_in_schema=False)
    async def docs() -> HTMLResponse:
        return HTMLResponse(page)

    @app.get(ASSETS_PATH + "/{name}", include_in_schema=False)
    async def docs_asset(name: str) -> FileResponse:
        found = _ASSETS.get(name)
        if found is None:
            raise HTTPException(404, f"no documentation asset {name!r}")
        # Versioned by the installed package: an hour is enough between upgrades.
        return FileResponse(found, headers={"Cache-Control": "public, max-age=3600"})
