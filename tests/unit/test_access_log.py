import logging

import httpx
import pytest
from fastapi import FastAPI

from herald_common.logs import RedactSecrets, redact
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
