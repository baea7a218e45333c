"""Everything the lifespan builds, handed to the routes through `app.state`."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from herald_gateway.domain.routes import ServiceName, Upstream
from herald_gateway.domain.static import StaticSite
from herald_gateway.metrics import GatewayMetrics
from herald_gateway.settings import GatewaySettings
from herald_web.runtime import runtime_getter


@dataclass(slots=True)
class GatewayRuntime:
    settings: GatewaySettings
    metrics: GatewayMetrics
    client: httpx.AsyncClient
    upstreams: dict[ServiceName, Upstream]
    site: StaticSite


get_runtime = runtime_getter(GatewayRuntime)
