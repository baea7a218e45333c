"""Running an HTTP service under uvicorn: what every service's entry point calls.

Every service logs through herald_common's JSON handler, uvicorn's own lines (access lines
included) too, so that secrets in URLs are redacted from them (`log_config=None`, see
docs/decisions/0013), and listens where its settings say. What really differs between
services is passed in: how long a graceful shutdown may wait, and how the server is built
(the notifier's draining server is `herald_notifier.server`).
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import uvicorn
from uvicorn.config import STARTUP_FAILURE

from herald_common.logs import configure_logging


class HttpSettings(Protocol):
    """What `serve` reads of a service's settings."""

    @property
    def host(self) -> str: ...

    @property
    def port(self) -> int: ...

    @property
    def log_level(self) -> str: ...


S = TypeVar("S", bound=HttpSettings)
A = TypeVar("A")


@dataclass(frozen=True, slots=True)
class ServerOptions:
    """The uvicorn options every service shares."""

    host: str
    port: int
    log_level: str
    graceful_shutdown_seconds: int | None = None

    def config(self, app: Any, **options: Any) -> uvicorn.Config:
        """uvicorn's configuration serving `app`: these options, and a service's own."""
        return uvicorn.Config(
            app,
            host=self.host,
            port=self.port,
            log_level=self.log_level.lower(),
            # Our JSON logging, not uvicorn's own handlers and formats.
            log_config=None,
            timeout_graceful_shutdown=self.graceful_shutdown_seconds,
            **options,
        )


def plain_server(app: Any, options: ServerOptions) -> uvicorn.Server:
    return uvicorn.Server(options.config(app))


def serve(
    create_app: Callable[[S], A],
    settings: S,
    *,
    graceful_shutdown_seconds: int | None = None,
    server: Callable[[A, ServerOptions], uvicorn.Server] = plain_server,
) -> None:
    """Log as JSON, build the app from `settings`, and serve it until a signal stops it.

    `graceful_shutdown_seconds` bounds the wait for open connections on shutdown (None:
    uvicorn waits for them); `server` builds the uvicorn server for the app.
    """
    configure_logging(settings.log_level)
    app = create_app(settings)
    options = ServerOptions(
        settings.host, settings.port, settings.log_level, graceful_shutdown_seconds
    )
    running = server(app, options)
    # As uvicorn.run ends: Ctrl-C is a normal stop, a server that never started is not.
    with contextlib.suppress(KeyboardInterrupt):
        running.run()
    if not running.started:
        sys.exit(STARTUP_FAILURE)
