"""One way to run every HTTP service: herald_web.serve, and the notifier's own server."""

from dataclasses import dataclass

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client import CollectorRegistry
from starlette.applications import Starlette
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from herald_notifier.api.fast_path import StreamFastPath
from herald_notifier.compat import DrainingServer, Internals, LeanHttpToolsProtocol
from herald_notifier.drain import Drain
from herald_notifier.server import notifier_server
from herald_web import serve as serve_module
from herald_web.health import Probes, health_routes
from herald_web.serve import ServerOptions, plain_server, serve
from tests.support.uvicorn_server import serving


@dataclass
class _Settings:
    host: str = "127.0.0.1"
    port: int = 8123
    log_level: str = "WARNING"


class _Server:
    def __init__(self, *, started: bool, interrupted: bool = False) -> None:
        self.started = started
        self.interrupted = interrupted
        self.ran = False

    def run(self) -> None:
        self.ran = True
        if self.interrupted:
            raise KeyboardInterrupt


@pytest.fixture
def logging_levels(monkeypatch):
    # The real configure_logging would replace pytest's own handlers.
    levels: list[str] = []
    monkeypatch.setattr(serve_module, "configure_logging", levels.append)
    return levels


def test_serve_logs_as_json_then_runs_the_app_made_from_the_settings(logging_levels):
    settings = _Settings()
    built: list[tuple[object, ServerOptions]] = []
    server = _Server(started=True)
    app = object()

    def create_app(given: _Settings) -> object:
        assert given is settings
        assert logging_levels == ["WARNING"], "logging is configured before the app is made"
        return app

    def make_server(made: object, options: ServerOptions) -> _Server:
        built.append((made, options))
        return server

    serve(create_app, settings, graceful_shutdown_seconds=5, server=make_server)
    assert built == [(app, ServerOptions("127.0.0.1", 8123, "WARNING", 5))]
    assert server.ran


def test_a_server_that_never_started_exits_with_uvicorns_startup_failure(logging_levels):
    with pytest.raises(SystemExit) as exited:
        serve(lambda s: object(), _Settings(), server=lambda app, o: _Server(started=False))
    assert exited.value.code == 3


def test_ctrl_c_stops_the_service_without_a_traceback(logging_levels):
    server = _Server(started=True, interrupted=True)
    serve(lambda s: object(), _Settings(), server=lambda app, o: server)
    assert server.ran


def test_every_service_gets_json_logging_and_its_own_options_on_top():
    app = Starlette()
    config = ServerOptions("0.0.0.0", 8001, "INFO", 7).config(app, http="h11")  # noqa: S104
    assert (config.app, config.host, config.port) == (app, "0.0.0.0", 8001)  # noqa: S104
    assert config.log_level == "info"
    # uvicorn's own handlers stay out: its lines go through the JSON handler.
    assert config.log_config is None
    assert config.timeout_graceful_shutdown == 7
    assert config.http == "h11"
    assert ServerOptions("127.0.0.1", 1, "INFO").config(app).timeout_graceful_shutdown is None


async def test_the_plain_server_serves_the_app():
    probes = Probes(CollectorRegistry())
    app = Starlette(routes=health_routes(lambda request: probes))
    server = plain_server(app, ServerOptions("127.0.0.1", 0, "WARNING"))
    server.config.lifespan = "off"
    async with serving(server) as port, httpx.AsyncClient() as client:
        response = await client.get(f"http://127.0.0.1:{port}/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


@pytest.mark.parametrize(
    ("internals", "protocol"),
    [
        (Internals(fetcher=True, protocol=True, stepping=True), LeanHttpToolsProtocol),
        # The public path: uvicorn's own protocol, as uvicorn chooses it.
        (Internals(fetcher=False, protocol=False, stepping=False), "auto"),
    ],
)
def test_the_notifier_server_is_lean_draining_and_streams_bypass_proxy_headers(internals, protocol):
    app = FastAPI()
    drain = Drain(3000)
    app.state.drain = drain
    app.state.compat = internals
    server = notifier_server(app, ServerOptions("127.0.0.1", 8002, "INFO", 22), cors=True)
    assert isinstance(server, DrainingServer)
    assert server._drain is drain
    config = server.config
    assert config.http == protocol
    assert config.proxy_headers is False
    assert config.timeout_graceful_shutdown == 22
    assert config.log_config is None
    fast_path = config.app
    assert isinstance(fast_path, StreamFastPath)
    assert fast_path.app is app
    assert fast_path._cors is True
    # Every other request still goes through the proxy headers, with uvicorn's trusted hosts.
    assert isinstance(fast_path.others, ProxyHeadersMiddleware)
    assert fast_path.others.app is app
