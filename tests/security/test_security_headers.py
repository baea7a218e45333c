"""Every response of the gateway carries the headers of a single-origin app (OWASP's Secure
Headers Project): the console's pages and files, the APIs it proxies, the stream, the probes,
and its own errors. What is left out, and why: docs/decisions/0040-gateway-security-headers.md.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import httpx
import pytest

from tests.support.api import add_people
from tests.support.gateway import start_gateway, start_gateway_for
from tests.support.processes import free_port
from tests.support.sse import StreamRecorder

pytestmark = pytest.mark.integration

EMPLOYEE = "HDR000"
PEOPLE = [(EMPLOYEE, "Person 0", "Headers-Dept", "G1", date(2020, 1, 1))]

EVERYWHERE = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
    "x-permitted-cross-domain-policies": "none",
}
# Powerful features the console never uses, refused to it and to anything it could embed.
PERMISSIONS_REFUSED = ("camera", "microphone", "geolocation", "payment", "usb")
PAGE_CSP = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "frame-ancestors": "'none'",
}
# Nothing an API answer says may run, load or be framed, should a browser open it.
API_CSP = {"default-src": "'none'", "frame-ancestors": "'none'"}
HSTS = "max-age=31536000; includeSubDomains"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("headers-site")
    (root / "assets").mkdir()
    (root / "index.html").write_text('<!doctype html><script src="/assets/app.js"></script>')
    (root / "assets" / "app.js").write_text("console.log('herald')")
    (root / "favicon.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg"/>')
    return root


@pytest.fixture(scope="module")
def gateway(services, herald_env, site) -> Iterator[str]:
    process, url = start_gateway_for(services, "gateway-headers", herald_env.log_dir, site)
    yield url
    process.stop()


@pytest.fixture(scope="module")
async def people(services, herald_env):
    await add_people(services.allocation_url, herald_env.admin, PEOPLE)
    return PEOPLE


def policy(header: str) -> dict[str, str]:
    directives = (d.strip().split(None, 1) for d in header.split(";") if d.strip())
    return {d[0]: d[1] if len(d) > 1 else "" for d in directives}


def check(response: httpx.Response, csp: dict[str, str], what: str) -> None:
    headers = response.headers
    for name, value in EVERYWHERE.items():
        assert headers.get(name) == value, f"{what}: {name} is {headers.get(name)!r}"
    permissions = headers.get("permissions-policy", "")
    for feature in PERMISSIONS_REFUSED:
        assert f"{feature}=()" in permissions, f"{what}: {feature} not refused"
    found = policy(headers.get("content-security-policy", ""))
    for directive, value in csp.items():
        assert found.get(directive) == value, f"{what}: CSP {directive} is {found.get(directive)}"
    assert "'unsafe-inline'" not in headers.get("content-security-policy", "")
    assert "'unsafe-eval'" not in headers.get("content-security-policy", "")
    # Plain HTTP here: HSTS would be ignored, and wrong on a host that is not on TLS.
    assert "strict-transport-security" not in headers, what


PAGES = ["/", "/index.html", "/assets/app.js", "/favicon.svg", "/allocations", "/inbox/42"]
PROBES = ["/healthz", "/readyz", "/metrics"]


async def test_every_page_and_file_of_the_console(gateway):
    async with httpx.AsyncClient(base_url=gateway, timeout=10) as client:
        for path in PAGES:
            for method in ("GET", "HEAD"):
                response = await client.request(method, path)
                assert response.status_code == 200, (method, path)
                check(response, PAGE_CSP, f"{method} {path}")
        missing = await client.get("/assets/missing.js")
        assert missing.status_code == 404
        check(missing, PAGE_CSP, "a missing file")


async def test_every_api_answer_and_the_probes(gateway, herald_env, people):
    employee = herald_env.bearer(EMPLOYEE, ["employee"])
    async with httpx.AsyncClient(base_url=gateway, timeout=10) as client:
        answers = {
            "allocation API": await client.get("/v1/notifications", headers=employee),
            "allocation API, refused": await client.get("/v1/allocations"),
            "allocation API, a POST": await client.post(
                "/v1/notifications/unread-count", headers=employee
            ),
            "mailer API": await client.get("/v1/preferences", headers=employee),
            "notifier API": await client.post("/v1/stream-tickets", headers=employee),
            "an unknown API path": await client.get("/v1/nowhere", headers=employee),
            **{path: await client.get(path) for path in PROBES},
        }
        stream = await StreamRecorder(client, f"{gateway}/v1/stream", {}, headers=employee).open()
        await stream.close()
    assert answers["allocation API"].status_code == 200
    assert answers["allocation API, refused"].status_code == 401
    assert answers["notifier API"].status_code == 201
    assert all(answers[path].status_code == 200 for path in PROBES)
    for what, response in answers.items():
        check(response, API_CSP, what)
    assert stream.status == 200
    assert stream.response_headers is not None
    check(httpx.Response(200, headers=stream.response_headers), API_CSP, "the stream")


async def test_a_service_that_is_down_answers_with_the_headers_too(services, herald_env, site):
    process, url = start_gateway(
        "gateway-headers-down",
        herald_env.log_dir,
        site,
        allocation_url=f"http://127.0.0.1:{free_port()}",
        notifier_url=services.notifier_url,
        mailer_url=services.mailer_url,
    )
    try:
        async with httpx.AsyncClient(base_url=url, timeout=10) as client:
            down = await client.get("/v1/allocations")
    finally:
        process.stop()
    assert down.status_code == 502
    check(down, API_CSP, "a 502")


async def test_hsts_only_when_a_trusted_proxy_says_the_request_came_over_tls(gateway):
    # uvicorn believes X-Forwarded-Proto only from its trusted proxies (FORWARDED_ALLOW_IPS,
    # 127.0.0.1 by default): this client is one.
    async with httpx.AsyncClient(base_url=gateway, timeout=10) as client:
        over_tls = {
            path: await client.get(path, headers={"X-Forwarded-Proto": "https"})
            for path in ["/", "/assets/app.js", "/v1/allocations", "/healthz"]
        }
        plain = await client.get("/", headers={"X-Forwarded-Proto": "http"})
    for path, response in over_tls.items():
        assert response.headers.get("strict-transport-security") == HSTS, path
    assert "strict-transport-security" not in plain.headers
