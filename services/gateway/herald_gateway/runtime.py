"""Everything the lifespan builds, handed to the routes through `app.state`."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from starlette.requests import Request

from herald_gateway.domain.routes import ServiceName, Upstream
from herald_gateway.domain.static import StaticSite
from herald_gateway.metrics import GatewayMetrics
from herald_gateway.settings import GatewaySettings


@dataclass(slots=True)
class GatewayRuntime:
    settings: GatewaySettings
    metrics: GatewayMetrics
    client: httpx.AsyncClient
    upstreams: dict[ServiceName, Upstream]
    site: StaticSite


def get_runtime(request: Request) -> GatewayRuntime:
    runtime: GatewayRuntime = request.app.state.runtime
    return runtime
