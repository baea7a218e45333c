import json
import logging
import sys

import httpx
import pytest
from fastapi import FastAPI
from starlette.datastructures import QueryParams

from herald_common.logs import JsonFormatter, RedactSecrets, redact
from herald_web.cors import allow_origins


def test_tickets_and_signatures_are_redacted_from_access_logs():
    line = "/v1/stream?ticket=abc.DEF_123&channels=private-x&channel_auth=k:ff00"
    assert redact(line) == "/v1/stream?ticket=[redacted]&channels=private-x&channel_auth=[redacted]"
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5", "GET", "/v1/stream?token=eyJhbGci", "1.1", 200),
        None,
    )
    assert RedactSecrets().filter(record)
    assert "eyJhbGci" not in record.getMessage()
    assert "token=[redacted]" in record.getMessage()


async def test_cors_echoes_only_configured_origins():
    app = FastAPI()

    @app.get("/v1/x")
    async def x() -> dict:
        return {}

    allow_origins(app, ["https://console.example"])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        good = await c.get("/v1/x", headers={"Origin": "https://console.example"})
        assert good.headers["access-control-allow-origin"] == "https://console.example"
        assert good.headers["access-control-allow-credentials"] == "true"
        evil = await c.get("/v1/x", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in evil.headers
        preflight = await c.options(
            "/v1/x",
            headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
        )
        assert preflight.headers.get("access-control-allow-origin") != "https://evil.example"


def test_wildcard_with_credentials_is_refused():
    with pytest.raises(ValueError, match="wildcard"):
        allow_origins(FastAPI(), ["*"])


def _json_line(message: str, args: tuple, exc_info=None, **extra: object) -> str:
    """One line as a service writes it: through the redaction filter, then as JSON."""
    handler = logging.Handler()
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RedactSecrets())
    record = logging.getLogger("herald.redaction").makeRecord(
        "herald.x", logging.INFO, __file__, 1, message, args, exc_info, extra=extra
    )
    assert handler.filter(record)
    return handler.format(record)


def test_urls_passed_as_objects_are_redacted():
    """httpx logs every request it sends with the URL as an httpx.URL, not a str."""
    url = httpx.URL("http://notifier:8002/v1/stream?ticket=T0PSECRET&channel_auth=k:5EC")
    line = _json_line('HTTP Request: %s %s "%s"', ("GET", url, "HTTP/1.1 200 OK"))
    assert "T0PSECRET" not in line
    assert "5EC" not in line
    assert "ticket=[redacted]" in line


def test_exceptions_extras_and_quoted_queries_are_redacted():
    try:
        raise ValueError("bad URL /v1/stream?ticket=T0PSECRET")
    except ValueError:
        line = _json_line(
            "query %r",
            (QueryParams("ticket=QUOTED5EC&channels=x"),),
            sys.exc_info(),
            url=httpx.URL("http://x/?channel_auth=k:EXTRA5EC"),
        )
    for secret in ("T0PSECRET", "QUOTED5EC", "EXTRA5EC"):
        assert secret not in line, line
    assert json.loads(line)["message"] == "query QueryParams('ticket=[redacted]&channels=x')"
