"""The gateway's security headers: which policy a path gets, and ours win over a service's."""

import httpx
import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from herald_gateway.security_headers import (
    API_POLICY,
    PAGE_POLICY,
    STRICT_TRANSPORT_SECURITY,
    SecurityHeaders,
    is_console,
)


@pytest.mark.parametrize(
    ("path", "console"),
    [
        ("/", True),
        ("/index.html", True),
        ("/assets/index-abc.js", True),
        ("/allocations/42", True),
        ("/v1x", True),
        ("/v1", False),
        ("/v1/stream", False),
        ("/healthz", False),
        ("/readyz", False),
        ("/metrics", False),
    ],
)
def test_the_console_is_everything_but_the_apis_and_the_probes(path, console):
    assert is_console(path) is console


async def test_our_headers_replace_what_the_app_sent():
    async def answer(request: Request) -> PlainTextResponse:
        # What a proxied service might say of itself.
        return PlainTextResponse(
            "x", headers={"X-Frame-Options": "SAMEORIGIN", "Content-Security-Policy": "*"}
        )

    app = Starlette(
        routes=[Route("/{path:path}", answer)], middleware=[Middleware(SecurityHeaders)]
    )
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        api = await c.get("/v1/allocations")
        page = await c.get("/")
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="https://t"
    ) as tls:
        secure = await tls.get("/")
    assert api.headers.get_list("x-frame-options") == ["DENY"]
    assert api.headers.get_list("content-security-policy") == [API_POLICY]
    assert page.headers.get_list("content-security-policy") == [PAGE_POLICY]
    assert "strict-transport-security" not in page.headers
    assert secure.headers["strict-transport-security"] == STRICT_TRANSPORT_SECURITY
