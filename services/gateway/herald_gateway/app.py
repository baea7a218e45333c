"""The gateway: the web console's files and Herald's APIs from one origin.

Browsers then send the session cookie to the streams and open EventSources without
CORS. It is what the local stack (and Compose) put in front of the services; in
Kubernetes an Ingress routes the same paths. Every response carries the security headers
of `security_headers`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Route

from herald_gateway.api import health, proxy, site
from herald_gateway.domain.routes import Upstream
from herald_gateway.domain.static import StaticSite
from herald_gateway.metrics import GatewayMetrics
from herald_gateway.runtime import GatewayRuntime
from herald_gateway.security_headers import SecurityHeaders
from herald_gateway.settings import GatewaySettings, load_settings
from herald_web.health import health_routes
from herald_web.serve import serve

METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


def create_app(settings: GatewaySettings | None = None) -> Starlette:
    settings = settings or load_settings()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        limits = httpx.Limits(max_connections=None, max_keepalive_connections=100)
        async with httpx.AsyncClient(limits=limits, follow_redirects=False) as client:
            app.state.runtime = GatewayRuntime(
                settings=settings,
                metrics=GatewayMetrics(),
                client=client,
                upstreams={
                    "allocation": Upstream("allocation", settings.allocation_url, False),
                    "notifier": Upstream("notifier", settings.notifier_url, True),
                    "mailer": Upstream("mailer", settings.mailer_url, False),
                },
                site=StaticSite(settings.static_dir),
            )
            yield

    routes = [
        *health_routes(health.probes),
        Route("/v1", proxy.proxy, methods=METHODS),
        Route("/v1/{path:path}", proxy.proxy, methods=METHODS),
        # The API's documentation, served by the allocation service (herald_web.docs).
        Route("/docs", proxy.proxy, methods=["GET", "HEAD"]),
        Route("/docs/{path:path}", proxy.proxy, methods=["GET", "HEAD"]),
        Route("/openapi.json", proxy.proxy, methods=["GET", "HEAD"]),
        Route("/{path:path}", site.page, methods=["GET", "HEAD"]),
    ]
    return Starlette(routes=routes, lifespan=lifespan, middleware=[Middleware(SecurityHeaders)])


def main() -> None:
    serve(create_app, load_settings(), graceful_shutdown_seconds=5)
