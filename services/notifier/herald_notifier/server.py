"""The notifier's uvicorn server: what `herald_web.serve` runs for it.

Streams take the fast path in front of uvicorn's proxy-headers middleware (they do not use
the client address; every other request still goes through it, with uvicorn's trusted
hosts), connections use the protocol `compat` chose (the lean one, or uvicorn's own on the
public path), and the server drains the streams as the shutdown signal arrives.
"""

from __future__ import annotations

from typing import Any, cast

import uvicorn
from fastapi import FastAPI
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from herald_notifier.api.fast_path import StreamFastPath
from herald_notifier.compat import DrainingServer, Internals, http_protocol
from herald_notifier.drain import Drain
from herald_web.serve import ServerOptions


def notifier_server(app: FastAPI, options: ServerOptions, *, cors: bool) -> uvicorn.Server:
    """Streams on the fast path, connections as `compat` chose, drained on exit."""
    internals: Internals = app.state.compat
    fast_path = StreamFastPath(app, cors=cors)
    config = options.config(
        fast_path,
        # Applied behind the fast path instead (see fast_path), with uvicorn's trusted hosts.
        proxy_headers=False,
        http=http_protocol(internals),
    )
    # uvicorn and starlette spell the same ASGI types differently.
    proxied = ProxyHeadersMiddleware(cast(Any, app), trusted_hosts=config.forwarded_allow_ips)
    fast_path.others = cast(Any, proxied)
    drain: Drain = app.state.drain
    return DrainingServer(config, drain)
